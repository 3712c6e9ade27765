/* The town map's layers: fetched from the app's layer API, styled by kind and state.
 *
 * Every value from the data reaches the page as text (textContent, createTextNode), never
 * as HTML: a checkpoint named <img src=x onerror=alert(1)> shows exactly that. */
(function () {
  "use strict";

  // The scale bar (Folium's control_scale) in metres only.
  L.Control.Scale.mergeOptions({ imperial: false });

  var ATTRIBUTION =
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';

  function ensurePane(map, name, zIndex) {
    if (!map.getPane(name)) {
      map.createPane(name).style.zIndex = String(zIndex);
    }
    return name;
  }

  function showProblem(message) {
    var status = document.getElementById("map-status");
    if (status) {
      status.textContent = message;
      status.hidden = false;
    }
  }

  function colourOf(config, feature) {
    var value = feature.properties ? feature.properties[config.colourBy] : undefined;
    if (config.colours && Object.prototype.hasOwnProperty.call(config.colours, value)) {
      return config.colours[value];
    }
    return config.fallbackColour;
  }

  function tooltipContent(config, feature) {
    var properties = feature.properties || {};
    var table = document.createElement("table");
    table.className = "feature-details";
    var caption = document.createElement("caption");
    caption.textContent = config.title;
    table.appendChild(caption);
    config.fields.forEach(function (field) {
      var value = properties[field[0]];
      if (value === null || value === undefined || value === "") {
        return;
      }
      var row = table.insertRow();
      var label = document.createElement("th");
      label.scope = "row";
      label.textContent = field[1];
      row.appendChild(label);
      row.insertCell().textContent = String(value);
    });
    return table;
  }

  function pointLayer(config, feature, latlng) {
    var colour = colourOf(config, feature);
    if (config.symbol === "diamond") {
      var shape = document.createElement("span");
      shape.className = "checkpoint-shape";
      shape.style.backgroundColor = colour;
      return L.marker(latlng, {
        pane: config.pane,
        keyboard: false,
        icon: L.divIcon({
          className: "checkpoint-marker",
          html: shape,
          iconSize: [config.radius * 2, config.radius * 2],
        }),
      });
    }
    return L.circleMarker(latlng, Object.assign({}, config.style, {
      pane: config.pane,
      radius: config.radius,
      fillColor: colour,
    }));
  }

  function fetchedLayer(map, config) {
    ensurePane(map, config.pane, config.zIndex);
    var layer = L.geoJSON(null, {
      pane: config.pane,
      attribution: ATTRIBUTION,
      style: function (feature) {
        return config.colourBy
          ? Object.assign({}, config.style, { fillColor: colourOf(config, feature) })
          : config.style;
      },
      pointToLayer: function (feature, latlng) {
        return pointLayer(config, feature, latlng);
      },
      onEachFeature: function (feature, featureLayer) {
        if (config.fields.length) {
          featureLayer.bindTooltip(function () {
            return tooltipContent(config, feature);
          }, { sticky: config.symbol === "area" });
        }
      },
    });
    fetch(config.url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (collection) {
        layer.addData(collection);
      })
      .catch(function (error) {
        showProblem("The layer “" + config.title + "” could not be loaded.");
        console.error("layer " + config.name + " not loaded:", error);
      });
    return layer;
  }

  window.wanggeTownMap = { fetchedLayer: fetchedLayer };
})();
