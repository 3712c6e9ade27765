/* The town map's layers and controls: fetched from the app's APIs, styled by kind and state.
 *
 * Every value from the data reaches the page as text (textContent, createTextNode), never
 * as HTML: a checkpoint named <img src=x onerror=alert(1)> shows exactly that. Icons are
 * built as DOM nodes; no string of markup is ever parsed. */
(function () {
  "use strict";

  // The scale bar (Folium's control_scale) in metres only.
  L.Control.Scale.mergeOptions({ imperial: false });
  // Leaflet.VectorGrid 1.3 calls a helper Leaflet 1.8 removed.
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = L.DomEvent.stopPropagation;
  }
  // Leaflet takes a circle of radius 10 px or less under the pointer for a marker and asks
  // it for its position; a point of a vector tile (a bubble of households) is a circle
  // marker placed in its tile's pixels, with no position: the event failed before reaching
  // the layer. Its position: its point in its tile, the tile's corner at the tile's zoom.
  var circlePosition = L.CircleMarker.prototype.getLatLng;
  L.CircleMarker.prototype.getLatLng = function () {
    var tile = this._renderer;
    if (!this._latlng && this._point && tile && tile._tileCoord && tile._size && tile._map) {
      var corner = tile._tileCoord.scaleBy(tile._size);
      return tile._map.unproject(corner.add(this._point), tile._tileCoord.z);
    }
    return circlePosition.call(this);
  };

  var ATTRIBUTION =
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';

  var registry = {}; // layer name -> {config, layer, reload}
  var state = {
    asOf: null,
    colourBy: "screening",
    coverage: null,
    campaigns: [],
    campaign: null, // the chosen campaign's id
    progress: null, // its progress: {grid: {code: figures}, village: {code: figures}}
    progressBody: null,
    coverageReport: null,
    map: null,
    page: null,
  };

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

  function withAsOf(url) {
    if (!state.asOf) {
      return url;
    }
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + "as_of=" + encodeURIComponent(state.asOf);
  }

  function valueText(config, name, value) {
    var labels = config.values && config.values[name];
    if (labels && Object.prototype.hasOwnProperty.call(labels, value)) {
      return labels[value];
    }
    return String(value);
  }

  function colourOf(config, feature) {
    var value = feature.properties ? feature.properties[config.colourBy] : undefined;
    if (config.colours && Object.prototype.hasOwnProperty.call(config.colours, value)) {
      return config.colours[value];
    }
    return config.fallbackColour;
  }

  function addRow(table, label, text) {
    var row = table.insertRow();
    var head = document.createElement("th");
    head.scope = "row";
    head.textContent = label;
    row.appendChild(head);
    row.insertCell().textContent = text;
  }

  function detailsTable(title, fields, properties, config) {
    var table = document.createElement("table");
    table.className = "feature-details";
    var caption = document.createElement("caption");
    caption.textContent = title;
    table.appendChild(caption);
    fields.forEach(function (field) {
      var value = properties[field[0]];
      if (value === null || value === undefined || value === "") {
        return;
      }
      addRow(table, field[1], config ? valueText(config, field[0], value) : String(value));
    });
    return table;
  }

  function coverageRows(table, figures) {
    if (!figures || !state.page) {
      return;
    }
    var total = figures.households || 0;
    state.page.coverageFields.forEach(function (field) {
      var value = figures[field[0]];
      if (value === null || value === undefined) {
        return;
      }
      var text = String(value);
      if (field[0] !== "households" && total > 0) {
        text += " (" + Math.round((100 * value) / total) + "%)";
      }
      addRow(table, field[1], text);
    });
  }

  function tooltipContent(config, feature) {
    var properties = feature.properties || {};
    var table = detailsTable(config.title, config.fields, properties, config);
    if (config.choropleth) {
      coverageRows(table, coverageOf(config, properties));
    }
    return table;
  }

  // -- symbols (town-map-symbols.js) ------------------------------------------------------

  var symbols = window.WanggeMapSymbols({ colourOf: colourOf });
  var svgIcon = symbols.svgIcon;
  var pointLayer = symbols.pointLayer;

  function areaStyle(config, feature) {
    var properties = feature.properties || {};
    var style = Object.assign({}, config.style);
    if (config.colourBy) {
      style.fillColor = colourOf(config, feature);
      if (config.strokeByColour) {
        style.color = style.fillColor;
      }
    }
    if (config.paletteBy && config.palette.length) {
      var index = Math.abs(Number(properties[config.paletteBy]) || 0) % config.palette.length;
      style.color = config.palette[index];
      style.fillColor = config.palette[index];
    }
    if (config.dashBy) {
      var dash = config.dashBy[1][properties[config.dashBy[0]]];
      if (dash) {
        style.dashArray = dash;
      }
    }
    if (config.choropleth) {
      var fill = coverageColour(coverageOf(config, properties));
      if (fill) {
        style.fillColor = fill;
        style.fillOpacity = config.choropleth === "grid" ? 0.4 : 0.2;
      }
    }
    return style;
  }

  // -- figures: the choropleth, the summary panel, campaigns (town-map-figures.js) ----------

  var figures = window.WanggeMapFigures({
    state: state,
    registry: registry,
    element: element,
    areaStyle: areaStyle,
    showProblem: showProblem,
    withAsOf: withAsOf,
  });
  var coverageOf = figures.coverageOf;
  var coverageColour = figures.coverageColour;
  var restyleChoropleths = figures.restyleChoropleths;
  var loadCoverage = figures.loadCoverage;
  var loadProgress = figures.loadProgress;
  var loadCampaigns = figures.loadCampaigns;

  // -- GeoJSON layers --------------------------------------------------------------------

  function toFeatures(config, body) {
    if (config.source !== "coverage-items") {
      return body;
    }
    var items = (body.items && body.items[config.items]) || [];
    return {
      type: "FeatureCollection",
      features: items
        .filter(function (item) { return item.lon !== null && item.lat !== null; })
        .map(function (item) {
          return {
            type: "Feature",
            geometry: { type: "Point", coordinates: [item.lon, item.lat] },
            properties: item,
          };
        }),
    };
  }

  function layerUrl(map, config) {
    var url = config.url;
    if (config.source === "coverage-items") {
      url += "?level=town&list=1&items=" + encodeURIComponent(config.items);
    }
    if (config.asOf) {
      url = withAsOf(url);
    }
    if (config.minZoom !== null && config.minZoom !== undefined) {
      var b = map.getBounds().pad(0.25);
      var box = [
        Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()),
        Math.min(180, b.getEast()), Math.min(90, b.getNorth()),
      ].map(function (n) { return n.toFixed(6); }).join(",");
      url += (url.indexOf("?") >= 0 ? "&" : "?") + "bbox=" + box;
    }
    return url;
  }

  // -- popups on a click: the command post and the people responsible (town-map-popups.js) --

  var popups = window.WanggeMapPopups({
    state: state,
    registry: registry,
    element: element,
    valueText: valueText,
    detailsTable: detailsTable,
  });
  var OPERATED = popups.OPERATED;

  function fetchedLayer(map, config) {
    ensurePane(map, config.pane, config.zIndex);
    if (config.ringBy) {
      ensurePane(map, config.pane + "-rings", config.zIndex - 20);
    }
    var labels = config.labelBy ? L.layerGroup() : null;
    var layer = L.geoJSON(null, {
      pane: config.pane,
      attribution: ATTRIBUTION,
      style: function (feature) {
        return areaStyle(config, feature);
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
        if (config.popup) {
          featureLayer.bindPopup(function () {
            return tooltipContent(config, feature);
          });
        }
        if (OPERATED[config.name] && feature.id !== undefined) {
          featureLayer.on("click", function () {
            popups.operatePopup(config, feature, featureLayer);
          });
        } else if (config.responsible && feature.id !== undefined) {
          featureLayer.on("click", function (event) {
            if (state.page && state.page.people) {
              featureLayer.closeTooltip();
              popups.peoplePopup(config, feature, event.latlng);
            }
          });
        }
        var text = config.labelBy && feature.properties && feature.properties[config.labelBy];
        if (labels && text && featureLayer.getBounds) {
          var label = document.createElement("span");
          label.textContent = String(text);
          labels.addLayer(L.tooltip({
            permanent: true,
            direction: "center",
            className: "village-label",
            interactive: false,
          }).setLatLng(featureLayer.getBounds().getCenter()).setContent(label));
        }
      },
    });
    var generation = 0;
    var loadedBox = null;

    function reload(force) {
      if (!map.hasLayer(layer)) {
        return;
      }
      if (config.minZoom !== null && config.minZoom !== undefined) {
        if (!map._loaded) {
          map.whenReady(function () { reload(force); });
          return;
        }
        if (map.getZoom() < config.minZoom) {
          layer.clearLayers();
          loadedBox = null;
          return;
        }
        if (!force && loadedBox && loadedBox.contains(map.getBounds())) {
          return;
        }
        loadedBox = map.getBounds().pad(0.25);
      }
      generation += 1;
      var mine = generation;
      var url = layerUrl(map, config);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (body) {
          if (mine !== generation) {
            return;
          }
          layer.clearLayers();
          if (labels) {
            labels.clearLayers();
          }
          layer.addData(toFeatures(config, body));
          layer.fire("wangge:loaded");
          document.documentElement.dataset["loaded" + config.name.replace(/_/g, "")] = "true";
        })
        .catch(function (error) {
          var prefix = state.page ? state.page.messages.layerFailed : "A layer could not be loaded:";
          showProblem(prefix + " " + config.title);
          console.error("layer " + config.name + " not loaded:", error);
        });
    }

    layer.on("add", function () {
      if (labels) {
        labels.addTo(map);
      }
      reload(true);
    });
    layer.on("remove", function () {
      if (labels) {
        map.removeLayer(labels);
      }
    });
    if (config.minZoom !== null && config.minZoom !== undefined) {
      map.on("moveend", function () { reload(false); });
    }
    registry[config.name] = { config: config, layer: layer, reload: reload };
    return layer;
  }

  // -- vector tiles ----------------------------------------------------------------------

  function vectorTiles(map, config) {
    ensurePane(map, config.pane, config.zIndex);
    var households = config.name === "households";
    var styles = {};
    styles[config.name] = function (properties) {
      if (!households) {
        return { fill: true, fillColor: config.fill, fillOpacity: 0.7, color: config.stroke, weight: 0.5 };
      }
      var count = Number(properties.unscreened) || 0;
      return {
        fill: true,
        fillColor: config.fill,
        fillOpacity: 0.7,
        color: config.stroke,
        weight: 1,
        radius: Math.min(16, 3 + 2.2 * Math.sqrt(count)),
      };
    };
    var options = {
      pane: config.pane,
      minZoom: config.minZoom,
      maxNativeZoom: 18,
      maxZoom: 22,
      interactive: households,
      vectorTileLayerStyles: styles,
      fetchOptions: { credentials: "same-origin" },
    };
    if (!households) {
      options.rendererFactory = L.canvas.tile;
    }
    var layer = L.vectorGrid.protobuf(config.asOf ? withAsOf(config.url) : config.url, options);
    if (households) {
      var tip = L.tooltip({ direction: "top", offset: [0, -6] });
      layer.on("mouseover", function (e) {
        tip.setLatLng(e.latlng)
          .setContent(detailsTable(config.title, config.fields, e.layer.properties || {}, null));
        map.openTooltip(tip);
      });
      layer.on("mouseout", function () {
        map.closeTooltip(tip);
      });
    }
    registry[config.name] = {
      config: config,
      layer: layer,
      reload: function () {
        if (config.asOf) {
          layer.setUrl(withAsOf(config.url));
        }
      },
    };
    return layer;
  }

  // -- controls --------------------------------------------------------------------------

  function element(tag, className, parent) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  var controls = window.WanggeMapControls({
    state: state,
    registry: registry,
    element: element,
    svgIcon: svgIcon,
    loadCoverage: loadCoverage,
    loadCampaigns: loadCampaigns,
    loadProgress: loadProgress,
    restyleChoropleths: restyleChoropleths,
    fetchedLayer: fetchedLayer,
    vectorTiles: vectorTiles,
    ATTRIBUTION: ATTRIBUTION,
  });

  window.wanggeTownMap = {
    fetchedLayer: fetchedLayer,
    vectorTiles: vectorTiles,
    commanderControls: controls.commanderControls,
  };
})();
