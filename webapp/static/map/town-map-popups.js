/* The town map's popups opened by a click: the command post's state changes of entrances and
 * checkpoints, and the people responsible for a village, grid, compound or building.
 * `WanggeMapPopups(shared)` gives them over the map script's state and helpers (town-map.js
 * loads after this file). Every value reaches the page as text, never as HTML. */
(function () {
  "use strict";

  window.WanggeMapPopups = function (shared) {
    var state = shared.state;
    var registry = shared.registry;
    var element = shared.element;
    var valueText = shared.valueText;
    var detailsTable = shared.detailsTable;

    // -- the command post: state changes from a popup ---------------------------------------

    var OPERATED = {
      entrances: { api: "entrances", states: ["open", "sealed", "checkpoint"] },
      checkpoints: { api: "checkpoints", states: ["active", "closed"] },
    };

    function operateAllowed() {
      return Boolean(state.page && state.page.operate);
    }

    function operatePopup(config, feature, featureLayer) {
      if (!operateAllowed()) {
        return;
      }
      var operate = state.page.operate;
      var words = operate.messages;
      var url = operate.api + OPERATED[config.name].api + "/" + encodeURIComponent(String(feature.id));
      var box = document.createElement("div");
      box.className = "operate-popup";
      var title = element("strong", "", box);
      title.textContent = config.title + ": " + String((feature.properties || {}).name || feature.id);
      var status = element("p", "operate-state", box);
      var buttons = element("div", "operate-buttons", box);
      var form = element("form", "operate-form", box);
      form.hidden = true;
      var outcome = element("p", "operate-outcome", box);
      outcome.setAttribute("role", "status");
      var current = null;
      var chosen = null;

      function field(label, name, type) {
        var wrap = element("label", "", form);
        wrap.textContent = label + " ";
        var input = element("input", "", wrap);
        input.name = name;
        input.type = type;
        return input;
      }
      var reason = field(words.reason, "reason", "text");
      reason.required = true;
      var responsible = field(words.responsible, "responsible", "text");
      responsible.required = true;
      var effective = field(words.effectiveAt, "effective_at", "datetime-local");
      var send = element("button", "operate-send", form);
      send.type = "submit";

      function show(object) {
        current = object;
        status.textContent = words.state + ": " + valueText(config, "state", object.state) +
          " (" + words.version + " " + object.version + ")";
        (object.planned || []).forEach(function (p) {
          var line = element("span", "operate-planned", status);
          line.textContent = " · " + words.planned + " " + p.effective_at + ": " +
            valueText(config, "state", p.state);
        });
        buttons.textContent = "";
        OPERATED[config.name].states.forEach(function (target) {
          if (target === object.state) {
            return;
          }
          var button = element("button", "operate-to operate-to-" + target, buttons);
          button.type = "button";
          button.textContent = (words.to[target] || target);
          button.addEventListener("click", function () {
            chosen = target;
            send.textContent = words.apply + ": " + (words.to[target] || target);
            form.hidden = false;
            reason.focus();
          });
        });
      }

      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!current || !chosen) {
          return;
        }
        var body = {
          state: chosen,
          version: current.version,
          reason: reason.value,
          responsible: responsible.value,
        };
        if (effective.value) {
          body.effective_at = effective.value;
        }
        send.disabled = true;
        fetch(url, {
          method: "PATCH",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            "X-CSRFToken": operate.csrf,
          },
          body: JSON.stringify(body),
        })
          .then(function (response) {
            return response.json().then(function (answer) {
              return { status: response.status, answer: answer };
            });
          })
          .then(function (result) {
            send.disabled = false;
            if (result.status === 200) {
              form.hidden = true;
              outcome.textContent = words.done;
              show(result.answer);
              var entry = registry[config.name];
              if (entry) {
                entry.reload(true);
              }
            } else if (result.status === 409) {
              outcome.textContent = words.stale;
              show(result.answer.current);
            } else {
              outcome.textContent = String(result.answer.message || result.status);
            }
          })
          .catch(function () {
            send.disabled = false;
            outcome.textContent = words.failed;
          });
      });

      // A popup of the map's own: reloading the layer after a change keeps it open.
      L.popup({ minWidth: 240, autoPanPaddingTopLeft: L.point(260, 90) })
        .setLatLng(featureLayer.getLatLng())
        .setContent(box)
        .openOn(state.map);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(show)
        .catch(function () {
          outcome.textContent = words.failed;
        });
    }

    // -- the people responsible: a popup on click ------------------------------------------
    //
    // Fetched when the popup opens, never with the layer: the server answers with the name
    // and the phone masked only for viewers who may see them, in their scope, and audits it.

    function personText(person) {
      var people = state.page.people;
      if (person.name) {
        return person.phone ? person.name + " · " + person.phone : person.name;
      }
      return people.status[person.status] || String(person.status);
    }

    function fetchJson(url) {
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 404) {
            return null;
          }
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        });
    }

    function personRow(table, label, person) {
      var row = table.insertRow();
      row.className = "responsible-person";
      var head = document.createElement("th");
      head.scope = "row";
      head.textContent = label;
      row.appendChild(head);
      var cell = row.insertCell();
      cell.textContent = person ? personText(person) : state.page.people.loading;
      return cell;
    }

    function buildingShown() {
      var entry = registry.buildings;
      return Boolean(entry && state.map.hasLayer(entry.layer) &&
        state.map.getZoom() >= entry.config.minZoom);
    }

    function buildingSection(box, latlng, popup) {
      var people = state.page.people;
      var at = latlng.lng.toFixed(7) + "," + latlng.lat.toFixed(7);
      fetchJson(people.buildingUrl + "?at=" + encodeURIComponent(at))
        .then(function (body) {
          var building = body && body.building;
          if (!building) {
            return;
          }
          var table = detailsTable(people.building, people.buildingFields, building, null);
          table.classList.add("building-details");
          personRow(table, people.labels.buildings, building.head);
          box.appendChild(table);
          popup.update();
        })
        .catch(function (error) {
          console.warn("building not loaded:", error.message);
        });
    }

    function peoplePopup(config, feature, latlng) {
      var people = state.page.people;
      var box = element("div", "people-popup");
      // The object's first fields name it (name and code, or name and kind).
      var table = detailsTable(config.title, config.fields.slice(0, 2), feature.properties || {}, config);
      box.appendChild(table);
      var cell = personRow(table, config.responsible.label, null);
      var popup = L.popup({ minWidth: 200, autoPanPaddingTopLeft: L.point(260, 90) })
        .setLatLng(latlng)
        .setContent(box)
        .openOn(state.map);
      fetchJson(config.responsible.url.replace("{id}", encodeURIComponent(String(feature.id))))
        .then(function (person) {
          cell.textContent = person ? personText(person) : people.outside;
          popup.update();
        })
        .catch(function () {
          cell.textContent = people.failed;
        });
      if (buildingShown()) {
        buildingSection(box, latlng, popup);
      }
    }

    return { OPERATED: OPERATED, operatePopup: operatePopup, peoplePopup: peoplePopup };
  };
})();
