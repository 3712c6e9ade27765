/* The town map's controls: search, the as-of date, what villages and grids are coloured by,
 * full screen, the language and the phone's menu, and `commanderControls`, which builds the
 * commander's map with them. `WanggeMapControls(shared)` gives them over the map script's
 * state and functions (town-map.js loads after this file). */
(function () {
  "use strict";

  window.WanggeMapControls = function (shared) {
    var state = shared.state;
    var registry = shared.registry;
    var element = shared.element;
    var svgIcon = shared.svgIcon;
    var loadCoverage = shared.loadCoverage;
    var loadCampaigns = shared.loadCampaigns;
    var loadProgress = shared.loadProgress;
    var restyleChoropleths = shared.restyleChoropleths;
    var fetchedLayer = shared.fetchedLayer;
    var vectorTiles = shared.vectorTiles;
    var ATTRIBUTION = shared.ATTRIBUTION;

    function control(map, position, build) {
      var Control = L.Control.extend({
        onAdd: function () {
          var box = element("div", "leaflet-bar wangge-control");
          L.DomEvent.disableClickPropagation(box);
          L.DomEvent.disableScrollPropagation(box);
          build(box);
          return box;
        },
      });
      return new Control({ position: position }).addTo(map);
    }

    function searchable() {
      var found = [];
      Object.keys(registry).forEach(function (name) {
        var entry = registry[name];
        if (!entry.config.searchable || !entry.layer.eachLayer) {
          return;
        }
        entry.layer.eachLayer(function (featureLayer) {
          var p = (featureLayer.feature && featureLayer.feature.properties) || {};
          found.push({ config: entry.config, layer: featureLayer, name: p.name, code: p.code });
        });
      });
      return found;
    }

    function goTo(map, hit) {
      var target = hit.layer;
      if (target.getBounds) {
        map.fitBounds(target.getBounds(), { maxZoom: 18 });
      } else if (target.getLatLng) {
        map.setView(target.getLatLng(), Math.max(map.getZoom(), 17));
      }
      if (target.openTooltip) {
        target.openTooltip();
      }
    }

    function searchControl(map, messages) {
      control(map, "topleft", function (box) {
        box.classList.add("search-control");
        var form = element("form", "", box);
        form.setAttribute("role", "search");
        var input = element("input", "", form);
        input.type = "search";
        input.placeholder = messages.search;
        input.setAttribute("aria-label", messages.searchLabel);
        var list = element("ul", "search-results", box);
        function show() {
          var query = input.value.trim().toLowerCase();
          list.textContent = "";
          if (!query) {
            return;
          }
          var hits = searchable().filter(function (hit) {
            return [hit.name, hit.code].some(function (v) {
              return v !== null && v !== undefined && String(v).toLowerCase().indexOf(query) >= 0;
            });
          }).slice(0, 12);
          if (!hits.length) {
            element("li", "search-empty", list).textContent = messages.noMatch;
            return;
          }
          hits.forEach(function (hit) {
            var button = element("button", "", element("li", "", list));
            button.type = "button";
            var name = element("span", "search-name", button);
            name.textContent = String(hit.name || hit.code);
            var kind = element("span", "search-kind", button);
            kind.textContent = hit.config.title + (hit.code && hit.name ? " · " + hit.code : "");
            button.addEventListener("click", function () {
              goTo(map, hit);
            });
          });
        }
        input.addEventListener("input", show);
        form.addEventListener("submit", function (event) {
          event.preventDefault();
          var first = list.querySelector("button");
          if (first) {
            first.click();
          }
        });
      });
    }

    function reloadAll() {
      loadCoverage();
      Object.keys(registry).forEach(function (name) {
        var entry = registry[name];
        if (entry.config.asOf) {
          entry.reload(true);
        }
      });
    }

    function dateControl(map, messages) {
      control(map, "topleft", function (box) {
        box.classList.add("as-of-control");
        var label = element("label", "", box);
        var caption = element("span", "", label);
        caption.textContent = messages.asOf;
        var input = element("input", "", label);
        input.type = "date";
        input.name = "as_of";
        var today = new Date();
        var iso = new Date(today.getTime() - today.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
        input.max = iso;
        input.value = iso;
        var reset = element("button", "", box);
        reset.type = "button";
        reset.textContent = messages.today;
        input.addEventListener("change", function () {
          state.asOf = input.value && input.value !== iso ? input.value : null;
          reloadAll();
        });
        reset.addEventListener("click", function () {
          input.value = iso;
          state.asOf = null;
          reloadAll();
        });
      });
    }

    function colourByControl(map, messages) {
      control(map, "topleft", function (box) {
        box.classList.add("colour-by-control");
        var fieldset = element("fieldset", "", box);
        var legend = element("legend", "", fieldset);
        legend.textContent = messages.colourBy;
        var radios = {};
        [["campaign", messages.campaign], ["screening", messages.screening],
          ["reach", messages.reach]].forEach(function (option) {
          var label = element("label", "colour-by-" + option[0], fieldset);
          var radio = element("input", "", label);
          radio.type = "radio";
          radio.name = "colour_by";
          radio.value = option[0];
          radio.checked = state.colourBy === option[0];
          radio.addEventListener("change", function () {
            state.colourBy = option[0];
            restyleChoropleths();
          });
          element("span", "", label).textContent = option[1];
          radios[option[0]] = label;
        });
        radios.campaign.hidden = true; // shown once an active campaign is known
        var select = element("select", "campaign-select", fieldset);
        select.setAttribute("aria-label", messages.campaign);
        select.hidden = true;
        select.addEventListener("change", function () {
          state.campaign = Number(select.value);
          state.colourBy = "campaign";
          radios.campaign.querySelector("input").checked = true;
          loadProgress();
        });
        loadCampaigns(function () {
          if (!state.campaigns.length) {
            return;
          }
          state.campaigns.forEach(function (c) {
            var option = element("option", "", select);
            option.value = String(c.id);
            option.textContent = c.name; // text, never markup
          });
          select.value = String(state.campaign);
          radios.campaign.hidden = false;
          select.hidden = false;
          radios.campaign.querySelector("input").checked = state.colourBy === "campaign";
        });
      });
    }

    function fullscreenControl(map, messages) {
      control(map, "topleft", function (box) {
        var button = element("a", "fullscreen-button", box);
        button.href = "#";
        button.setAttribute("role", "button");
        button.title = messages.fullscreen;
        button.setAttribute("aria-label", messages.fullscreen);
        button.appendChild(svgIcon(18, function (add) {
          add("path", {
            d: "M2 7 V2 H7 M11 2 H16 V7 M16 11 V16 H11 M7 16 H2 V11",
            fill: "none",
            stroke: "#333",
            "stroke-width": 2,
          });
        }));
        button.addEventListener("click", function (event) {
          event.preventDefault();
          if (document.fullscreenElement) {
            document.exitFullscreen();
          } else if (document.documentElement.requestFullscreen) {
            document.documentElement.requestFullscreen();
          }
        });
        document.addEventListener("fullscreenchange", function () {
          map.invalidateSize();
        });
      });
    }

    function languageControl(map, config) {
      control(map, "bottomleft", function (box) {
        box.classList.add("language-control");
        box.setAttribute("aria-label", config.messages.language);
        config.languages.forEach(function (pair) {
          var link = element("a", "", box);
          link.href = "?lang=" + encodeURIComponent(pair[0]);
          link.lang = pair[0].replace("_", "-");
          link.textContent = pair[1];
          if (pair[0] === config.language) {
            link.setAttribute("aria-current", "true");
          }
        });
      });
    }

    var PHONE = "(max-width: 640px)";

    function menuControl(map, messages) {
      // On a phone every other control folds into this one button; the legend starts folded.
      control(map, "topleft", function (box) {
        box.classList.add("map-menu-toggle");
        var button = element("a", "", box);
        button.href = "#";
        button.setAttribute("role", "button");
        button.setAttribute("aria-expanded", "false");
        button.title = messages.menu;
        button.setAttribute("aria-label", messages.menu);
        button.textContent = "☰";
        button.addEventListener("click", function (event) {
          event.preventDefault();
          var open = map.getContainer().classList.toggle("menu-open");
          button.setAttribute("aria-expanded", String(open));
        });
      });
      if (window.matchMedia && window.matchMedia(PHONE).matches) {
        var legend = document.querySelector(".map-legend details");
        if (legend) {
          legend.open = false;
        }
      }
    }

    function commanderControls(map, config) {
      state.map = map;
      state.page = config;
      menuControl(map, config.messages);
      if (config.basemapUrl) {
        L.tileLayer(config.basemapUrl, { maxZoom: 20, attribution: ATTRIBUTION, pane: "tilePane" })
          .addTo(map);
      } else {
        map.getContainer().classList.add("no-basemap");
      }
      searchControl(map, config.messages);
      dateControl(map, config.messages);
      colourByControl(map, config.messages);
      fullscreenControl(map, config.messages);
      languageControl(map, config);
      loadCoverage();
    }

    return { commanderControls: commanderControls };
  };
})();
