/* The planning page: current checkpoints and a proposal side by side, edited on the map. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("plan-config").textContent);
  var text = config.messages;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var el = function (id) { return document.getElementById(id); };

  var map = L.map("plan-map", { preferCanvas: false, zoomSnap: 0.25 });
  // The town's outlines, roads and buildings come from OpenStreetMap (ODbL).
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
    style: { color: "#7a6f5a", weight: 1, fill: true, fillColor: "#e8e1cf", fillOpacity: 0.4 },
    interactive: false
  }).addTo(map);
  var currentLayer = L.layerGroup().addTo(map);
  var proposalLayer = L.layerGroup().addTo(map);
  var proposal = [];  // {id, kind, lon, lat, marker, circle}

  function status(message, isError) {
    var p = el("plan-status");
    p.textContent = message || "";
    p.classList.toggle("plan-error", Boolean(isError));
  }

  // Leaflet renders a string given to a tooltip as HTML: ids and names go in as text nodes.
  function label(value) {
    var span = document.createElement("span");
    span.textContent = String(value);
    return span;
  }

  function percent(value) {
    return Number(value).toFixed(1) + " %";
  }

  function shareText(answer) {
    return percent(answer.covered_pct) + " · " + answer.covered_points + "/" + answer.demand_points +
      " " + text.buildings;
  }

  function request(method, url, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf;
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          throw new Error((data && data.message) || response.statusText);
        }
        return data;
      });
    });
  }

  function radius() {
    var value = Number(el("plan-radius").value);
    return value > 0 ? value : 500;
  }

  function post(kind) {
    return L.divIcon({
      className: "plan-post plan-post-" + kind,
      html: "<span></span>",
      iconSize: [16, 16],
      iconAnchor: [8, 8]
    });
  }

  function showCurrent(answer) {
    currentLayer.clearLayers();
    answer.sites.forEach(function (site) {
      var marker = L.marker([site.lat, site.lon], { icon: post("current"), keyboard: false });
      marker.bindTooltip(label(site.id), { direction: "top" });
      marker.addTo(currentLayer);
    });
    el("share-current").textContent = shareText(answer);
  }

  function proposalSites() {
    return proposal.map(function (site) {
      return { id: site.id, kind: site.kind, lon: site.lon, lat: site.lat };
    });
  }

  function rescore() {
    el("share-proposal").textContent = "…";
    return request("POST", config.urls.score, {
      radius_m: radius(),
      network: el("plan-network").checked,
      sites: proposalSites()
    }).then(function (answer) {
      el("share-proposal").textContent = shareText(answer);
      el("plan-apply").disabled = proposal.length === 0;
    }).catch(function (error) { status(error.message, true); });
  }

  function remove(site) {
    proposal = proposal.filter(function (other) { return other !== site; });
    proposalLayer.removeLayer(site.marker);
    proposalLayer.removeLayer(site.circle);
    rescore();
  }

  function addSite(site) {
    var latlng = [site.lat, site.lon];
    site.circle = L.circle(latlng, {
      radius: radius(), color: "#d9480f", weight: 1, fillOpacity: 0.08, interactive: false
    }).addTo(proposalLayer);
    site.marker = L.marker(latlng, {
      icon: post("proposal"), draggable: true, keyboard: false, zIndexOffset: 1000
    });
    site.marker.bindTooltip(label(site.id), { direction: "top" });
    site.marker.on("drag", function (event) { site.circle.setLatLng(event.target.getLatLng()); });
    site.marker.on("dragend", function (event) {
      var at = event.target.getLatLng();
      site.lat = at.lat;
      site.lon = at.lng;
      site.kind = "site";
      site.id = text.moved + " " + at.lat.toFixed(5) + "," + at.lng.toFixed(5);
      site.marker.setTooltipContent(label(site.id));
      rescore();
    });
    site.marker.on("click", function () { remove(site); });
    site.marker.addTo(proposalLayer);
    proposal.push(site);
  }

  function showProposal(plan) {
    proposalLayer.clearLayers();
    proposal = [];
    plan.selected.forEach(function (site) {
      addSite({ id: site.id, kind: site.kind, lon: site.lon, lat: site.lat });
    });
    el("share-proposal").textContent = shareText({
      covered_pct: plan.covered_pct,
      covered_points: plan.covered_points,
      demand_points: plan.demand_points
    });
    el("plan-apply").disabled = proposal.length === 0;
  }

  map.on("click", function (event) {
    addSite({
      id: text.added + " " + event.latlng.lat.toFixed(5) + "," + event.latlng.lng.toFixed(5),
      kind: "site",
      lon: event.latlng.lng,
      lat: event.latlng.lat
    });
    rescore();
  });

  el("plan-budget").addEventListener("input", function () {
    el("plan-budget-value").textContent = el("plan-budget").value;
  });

  el("plan-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var button = el("plan-propose");
    button.disabled = true;
    status(text.solving);
    request("POST", config.urls.propose, {
      budget: Number(el("plan-budget").value),
      radius_m: radius(),
      keep_existing: el("plan-keep").checked,
      network: el("plan-network").checked
    }).then(function (plan) {
      showProposal(plan);
      status(text.proposed.replace("{posts}", plan.posts).replace("{status}", plan.status));
    }).catch(function (error) {
      status(error.message, true);
    }).then(function () { button.disabled = false; });
  });

  el("plan-apply").addEventListener("click", function () {
    if (!proposal.length) { return; }
    el("plan-apply").disabled = true;
    request("POST", config.urls.apply, {
      selected: proposalSites(),
      radius_m: radius()
    }).then(function (answer) {
      status(text.applied.replace("{count}", answer.applied.length));
      return loadCurrent();
    }).catch(function (error) {
      status(error.message, true);
      el("plan-apply").disabled = false;
    });
  });

  function loadCurrent() {
    return request("POST", config.urls.score, { radius_m: radius() })
      .then(showCurrent)
      .catch(function (error) { status(error.message, true); });
  }

  el("plan-radius").addEventListener("change", function () {
    proposal.forEach(function (site) { site.circle.setRadius(radius()); });
    loadCurrent();
    if (proposal.length) { rescore(); }
  });

  function cell(row, value, header) {
    var node = document.createElement(header ? "th" : "td");
    node.textContent = value;
    row.appendChild(node);
    return node;
  }

  function showSeals(answer) {
    var list = el("seal-list");
    list.textContent = "";
    var plans = answer.plans.filter(function (plan) { return plan.changes > 0; });
    if (!plans.length) {
      var none = document.createElement("p");
      none.textContent = text.noSeals;
      list.appendChild(none);
      return;
    }
    var table = document.createElement("table");
    table.className = "seal-table";
    var head = table.createTHead().insertRow();
    [text.compound, text.households, text.keep, text.seal, ""].forEach(function (title) {
      cell(head, title, true);
    });
    var body = table.createTBody();
    plans.forEach(function (plan) {
      var row = body.insertRow();
      cell(row, plan.compound_name || String(plan.compound_id));
      cell(row, String(plan.households));
      var keep = cell(row, plan.keep.name || plan.keep.source_id);
      keep.title = plan.keep.reason;
      keep.className = "seal-gates";
      var sealed = cell(row, plan.seal.map(function (gate) {
        return gate.name || gate.source_id;
      }).join("\n"));
      sealed.className = "seal-gates";
      sealed.title = plan.seal.map(function (gate) { return gate.reason; }).join("\n");
      var action = cell(row, "");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = text.applySeal;
      button.addEventListener("click", function () {
        button.disabled = true;
        request("POST", config.urls.seals_apply, { compound_ids: [plan.compound_id] })
          .then(function (result) {
            var applied = result.applied;
            action.textContent = text.sealApplied
              .replace("{sealed}", applied.sealed).replace("{opened}", applied.opened);
          })
          .catch(function (error) {
            status(error.message, true);
            button.disabled = false;
          });
      });
      action.appendChild(button);
    });
    list.appendChild(table);
  }

  request("GET", config.urls.villages).then(function (data) { villages.addData(data); })
    .catch(function () { /* the plan works without the outlines */ });
  loadCurrent();
  request("GET", config.urls.seals).then(showSeals)
    .catch(function (error) { status(error.message, true); });
}());
