/* The town map's point symbols: checkpoints (a diamond with its reach as a ring), entrances
 * by state, warnings, sites, and circles for the rest; icons are drawn as SVG DOM nodes, never
 * parsed from markup. `WanggeMapSymbols(shared)` gives them over the map script's colour
 * rule (town-map.js loads after this file). */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";

  window.WanggeMapSymbols = function (shared) {
    var colourOf = shared.colourOf;

    function svgIcon(size, draw) {
      var svg = document.createElementNS(SVG, "svg");
      svg.setAttribute("width", String(size));
      svg.setAttribute("height", String(size));
      svg.setAttribute("viewBox", "0 0 18 18");
      svg.setAttribute("aria-hidden", "true");
      draw(function (tag, attributes) {
        var node = document.createElementNS(SVG, tag);
        Object.keys(attributes).forEach(function (key) {
          node.setAttribute(key, String(attributes[key]));
        });
        svg.appendChild(node);
      });
      return svg;
    }

    var SHAPES = {
      open: function (add, colour) {
        add("circle", { cx: 9, cy: 9, r: 6.5, fill: colour, stroke: "#222", "stroke-width": 1.2 });
      },
      sealed: function (add, colour) {
        add("rect", { x: 3, y: 3, width: 12, height: 12, fill: colour, stroke: "#222" });
        add("path", { d: "M5.5 5.5 L12.5 12.5 M12.5 5.5 L5.5 12.5", stroke: "#fff", "stroke-width": 2 });
      },
      checkpoint: function (add, colour) {
        add("polygon", { points: "9,1.5 16.5,7.5 16.5,16.5 1.5,16.5 1.5,7.5", fill: colour, stroke: "#222" });
      },
      warning: function (add, colour) {
        add("polygon", { points: "9,1 17.5,16.5 0.5,16.5", fill: colour, stroke: "#000" });
        add("path", { d: "M9 6 V11.5 M9 13 V14.5", stroke: "#000", "stroke-width": 2 });
      },
      site: function (add, colour) {
        add("rect", { x: 1.5, y: 1.5, width: 15, height: 15, rx: 3, fill: colour, stroke: "#fff" });
        add("path", { d: "M9 4.5 V13.5 M4.5 9 H13.5", stroke: "#fff", "stroke-width": 2.4 });
      },
    };

    function iconMarker(config, latlng, kind, colour, className) {
      var size = config.radius * 2 + 2;
      var icon = svgIcon(size, function (add) {
        (SHAPES[kind] || SHAPES.open)(add, colour);
      });
      return L.marker(latlng, {
        pane: config.pane,
        keyboard: false,
        icon: L.divIcon({ className: className, html: icon, iconSize: [size, size] }),
      });
    }

    function pointLayer(config, feature, latlng) {
      var colour = colourOf(config, feature);
      var properties = feature.properties || {};
      if (config.symbol === "diamond") {
        var shape = document.createElement("span");
        shape.className = "checkpoint-shape";
        shape.style.backgroundColor = colour;
        var marker = L.marker(latlng, {
          pane: config.pane,
          keyboard: false,
          icon: L.divIcon({
            className: "checkpoint-marker",
            html: shape,
            iconSize: [config.radius * 2, config.radius * 2],
          }),
        });
        var radius = Number(properties[config.ringBy]);
        // A closed checkpoint reaches nobody: no ring.
        if (config.ringBy && isFinite(radius) && radius > 0 && properties.state !== "closed") {
          var ring = L.circle(latlng, {
            pane: config.pane + "-rings",
            radius: radius,
            color: colour,
            weight: 1,
            dashArray: "3 3",
            fillColor: colour,
            fillOpacity: 0.08,
            interactive: false,
            className: "checkpoint-ring",
          });
          return L.featureGroup([ring, marker]);
        }
        return marker;
      }
      if (config.symbol === "entrance") {
        var entranceState = String(properties.state);
        return iconMarker(config, latlng, entranceState, colour, "entrance-marker entrance-" + entranceState);
      }
      if (config.symbol === "warning") {
        return iconMarker(config, latlng, "warning", config.fallbackColour, "leak-marker");
      }
      if (config.symbol === "site") {
        return iconMarker(config, latlng, "site", "#00838f", "site-marker");
      }
      return L.circleMarker(latlng, Object.assign({}, config.style, {
        pane: config.pane,
        radius: config.radius,
        fillColor: colour,
      }));
    }

    return { svgIcon: svgIcon, pointLayer: pointLayer };
  };
})();
