/* The patrol zones page: a proposal's street blocks coloured by zone, a block moved to
   another zone with the zones measured again, and the zones applied. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("patrol-config").textContent);
  var text = config.messages;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var el = function (id) { return document.getElementById(id); };
  var PALETTE = [
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
    "#a6761d", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#666666"
  ];

  var map = L.map("patrol-map", { preferCanvas: false, zoomSnap: 0.25 });
  // The town's outlines and roads come from OpenStreetMap (ODbL).
  map.attributionControl.addAttribution("© OpenStreetMap contributors");
  if (config.bounds) {
    map.fitBounds(config.bounds);
  } else {
    map.setView([0, 0], 2);
  }
  if (config.basemap) {
    L.tileLayer(config.basemap, { maxZoom: 19 }).addTo(map);
  }
  var villages = L.geoJSON(null, {
    style: { color: "#7a6f5a", weight: 1, fill: false },
    interactive: false
  }).addTo(map);

  // The proposal the page holds: sent back whole with each move and with apply.
  var plan = null;       // {town, period, by, village, keep_existing}
  var zoneOf = {};       // unit -> zone (1..k)
  var layers = {};       // unit -> Leaflet layer
  var unitsLayer = L.geoJSON(null, { style: unitStyle, onEachFeature: eachUnit }).addTo(map);
  var selected = null;   // a unit picked to move
  var busy = false;

  function colour(zone) {
    return PALETTE[(zone - 1) % PALETTE.length];
  }

  function unitStyle(feature) {
    var unit = feature.properties.unit;
    var picked = unit === selected;
    return {
      className: "patrol-unit patrol-unit-" + unit,
      color: picked ? "#000000" : "#ffffff",
      weight: picked ? 4 : 1,
      fillColor: colour(zoneOf[unit] || feature.properties.zone),
      fillOpacity: picked ? 0.85 : 0.6
    };
  }

  function status(message, isError) {
    var p = el("patrol-status");
    p.textContent = message || "";
    p.classList.toggle("plan-error", Boolean(isError));
  }

  function format(message, values) {
    return Object.keys(values).reduce(function (out, key) {
      return out.split("{" + key + "}").join(String(values[key]));
    }, message);
  }

  function request(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrf
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          throw new Error((data && data.message) || response.statusText);
        }
        return data;
      });
    });
  }

  // Leaflet renders a string given to a tooltip as HTML: every value goes in as text.
  function tooltip(properties) {
    var table = document.createElement("table");
    table.className = "patrol-tip";
    [
      [text.block, properties.unit],
      [text.zone, zoneOf[properties.unit]],
      [text.households, properties.households],
      [text.road, properties.road_m],
      [text.posts, properties.stops],
      [text.hours, properties.hours]
    ].forEach(function (pair) {
      var row = table.insertRow();
      var head = document.createElement("th");
      head.scope = "row";
      head.textContent = pair[0];
      row.appendChild(head);
      row.insertCell().textContent = String(pair[1]);
    });
    return table;
  }

  function eachUnit(feature, layer) {
    var unit = feature.properties.unit;
    layers[unit] = layer;
    layer.bindTooltip(function () { return tooltip(feature.properties); }, { sticky: true });
    layer.on("click", function () { clickUnit(unit); });
    // Drag a block onto a block of another zone: the map holds still while the button is down.
    layer.on("mousedown", function () {
      if (busy) { return; }
      dragFrom = unit;
      map.dragging.disable();
    });
    layer.on("mouseup", function () {
      var from = dragFrom;
      endDrag();
      if (from !== null && from !== unit && zoneOf[from] !== zoneOf[unit]) {
        pick(from);
        moveTo(zoneOf[unit]);
      }
    });
  }

  var dragFrom = null;
  function endDrag() {
    dragFrom = null;
    map.dragging.enable();
  }
  document.addEventListener("mouseup", function () {
    if (dragFrom !== null) { endDrag(); }
  });

  function restyle(unit) {
    if (layers[unit]) {
      layers[unit].setStyle(unitStyle(layers[unit].feature));
    }
  }

  function pick(unit) {
    var before = selected;
    selected = unit;
    if (before !== null) { restyle(before); }
    if (unit !== null) {
      restyle(unit);
      layers[unit].bringToFront();
      status(format(text.pick, { unit: unit, zone: zoneOf[unit] }));
    }
    markTarget();
  }

  function clickUnit(unit) {
    if (busy) { return; }
    if (selected !== null && selected !== unit && zoneOf[unit] !== zoneOf[selected]) {
      moveTo(zoneOf[unit]);
    } else {
      pick(selected === unit ? null : unit);
    }
  }

  function assignment() {
    var units = Object.keys(zoneOf).map(Number).sort(function (a, b) { return a - b; });
    return {
      town: plan.town,
      period: plan.period,
      by: plan.by,
      village: plan.village,
      keep_existing: plan.keep_existing,
      units: units,
      zones: units.map(function (unit) { return zoneOf[unit]; })
    };
  }

  function moveTo(zone) {
    var unit = selected;
    if (unit === null || busy || zoneOf[unit] === zone) { return; }
    busy = true;
    status(text.moving);
    var body = assignment();
    body.unit = unit;
    body.zone = zone;
    request(config.urls.rescore, body).then(function (answer) {
      zoneOf[unit] = zone;
      showTable(answer, answer.changed);
      pick(null);
      status(format(text.moved, { unit: unit, zone: zone }));
    }).catch(function (error) {
      pick(null);
      status(error.message, true);
    }).then(function () { busy = false; });
  }

  function cell(row, value, className) {
    var td = row.insertCell();
    td.textContent = value;
    if (className) { td.className = className; }
    return td;
  }

  function markTarget() {
    var rows = el("patrol-rows").rows;
    for (var i = 0; i < rows.length; i += 1) {
      var zone = Number(rows[i].dataset.zone);
      rows[i].classList.toggle("patrol-target", selected !== null && zoneOf[selected] === zone);
    }
  }

  function showTable(answer, changed) {
    var body = el("patrol-rows");
    body.textContent = "";
    answer.zones.forEach(function (zone) {
      var row = body.insertRow();
      row.dataset.zone = String(zone.zone);
      row.classList.toggle("patrol-changed", (changed || []).indexOf(zone.zone) >= 0);
      row.classList.toggle("patrol-split", zone.pieces > 1);
      var head = document.createElement("th");
      head.scope = "row";
      var swatch = document.createElement("span");
      swatch.className = "patrol-swatch";
      swatch.style.background = colour(zone.zone);
      head.appendChild(swatch);
      head.appendChild(document.createTextNode(String(zone.zone)));
      row.appendChild(head);
      cell(row, zone.hours.toFixed(2), "patrol-hours");
      cell(row, String(zone.households));
      cell(row, Math.round(zone.road_m).toLocaleString());
      cell(row, String(zone.pieces), "patrol-pieces");
      cell(row, zone.polsby_popper.toFixed(3));
      row.addEventListener("click", function () { moveTo(zone.zone); });
    });
    el("patrol-max-min").textContent =
      answer.hours_max_min === null ? "–" : answer.hours_max_min.toFixed(3);
    markTarget();
  }

  el("patrol-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    var button = el("patrol-propose");
    button.disabled = true;
    el("patrol-apply").disabled = true;
    status(text.solving);
    var village = el("patrol-village").value;
    request(config.urls.propose, {
      zones: Number(el("patrol-zones").value),
      period: el("patrol-period").value,
      village: village || null,
      by: el("patrol-by").value,
      keep_existing: el("patrol-keep").checked
    }).then(function (answer) {
      plan = {
        town: answer.town,
        period: answer.period,
        by: answer.by,
        village: answer.village,
        keep_existing: answer.keep_existing
      };
      selected = null;
      zoneOf = {};
      layers = {};
      answer.units.features.forEach(function (feature) {
        zoneOf[feature.properties.unit] = feature.properties.zone;
      });
      unitsLayer.clearLayers();
      unitsLayer.addData(answer.units);
      if (answer.units.features.length) {
        map.fitBounds(unitsLayer.getBounds(), { padding: [10, 10] });
      }
      showTable(answer, []);
      el("patrol-apply").disabled = false;
      status(format(text.proposed, { zones: answer.zones.length, seconds: answer.solve_s }));
    }).catch(function (error) {
      status(error.message, true);
    }).then(function () {
      busy = false;
      button.disabled = false;
    });
  });

  el("patrol-apply").addEventListener("click", function () {
    if (!plan || busy) { return; }
    busy = true;
    el("patrol-apply").disabled = true;
    request(config.urls.apply, assignment()).then(function (answer) {
      status(format(text.applied, { count: answer.applied.length }));
    }).catch(function (error) {
      status(error.message, true);
      el("patrol-apply").disabled = false;
    }).then(function () { busy = false; });
  });

  fetch(config.urls.villages, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data) { return; }
      villages.addData(data);
      var select = el("patrol-village");
      data.features.forEach(function (feature) {
        var p = feature.properties || {};
        if (!p.code) { return; }
        var option = document.createElement("option");
        option.value = String(p.code);
        option.textContent = p.name ? String(p.name) + " (" + String(p.code) + ")" : String(p.code);
        select.appendChild(option);
      });
    })
    .catch(function () { /* the page works without the outlines */ });
}());
