/* The town map's figures: the coverage choropleth of villages and grids, the summary panel
 * (the town's headline figures, their change since yesterday and the command post's), and
 * the screening campaigns' progress. `WanggeMapFigures(shared)` gives them over the map
 * script's state and helpers (town-map.js loads after this file). */
(function () {
  "use strict";

  window.WanggeMapFigures = function (shared) {
    var state = shared.state;
    var registry = shared.registry;
    var element = shared.element;
    var areaStyle = shared.areaStyle;
    var showProblem = shared.showProblem;
    var withAsOf = shared.withAsOf;

    // -- coverage choropleth ---------------------------------------------------------------

    function coverageOf(config, properties) {
      if (!config.choropleth) {
        return null;
      }
      var source = state.colourBy === "campaign" ? state.progress : state.coverage;
      if (!source) {
        return null;
      }
      var index = source[config.choropleth];
      return (index && index[properties.code]) || null;
    }

    function colouredPart(figures) {
      if (state.colourBy === "reach") {
        return figures.reached;
      }
      if (state.colourBy === "campaign") {
        return figures.seen;
      }
      return figures.screened !== undefined ? figures.screened : figures.screened_24h;
    }

    function coverageColour(figures) {
      if (!figures || !state.page) {
        return null;
      }
      var total = figures.households || 0;
      var part = colouredPart(figures);
      if (!total || part === null || part === undefined) {
        return state.page.noDataColour; // no households, or a figure withheld
      }
      var share = part / total;
      var classes = state.page.classes;
      for (var i = 0; i < classes.length; i += 1) {
        if (share < classes[i][0]) {
          return classes[i][1];
        }
      }
      return classes[classes.length - 1][1];
    }

    function restyleChoropleths() {
      Object.keys(registry).forEach(function (name) {
        var entry = registry[name];
        if (entry.config.choropleth) {
          entry.layer.setStyle(function (feature) {
            return areaStyle(entry.config, feature);
          });
        }
      });
    }

    function loadCoverage() {
      if (!state.page || !state.page.coverageUrl) {
        return;
      }
      var url = withAsOf(state.page.coverageUrl + "?level=grid&command_post=1");
      // Yesterday's figures for the summary panel, asked for at once beside today's (for a
      // chosen day, once its report names the moment).
      var early = null;
      if (!state.asOf) {
        var day = dayBefore(new Date().toISOString());
        early = { day: day, body: getJson(yesterdayUrl(day)) };
        early.body.catch(function () { return null; }); // read (and reported) by showSummary
      }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (report) {
          state.coverageReport = report;
          if (state.progressBody) {
            state.progress = progressIndex(state.progressBody); // villages need the report
          }
          var index = { village: {}, grid: {} };
          (report.villages || []).forEach(function (v) { index.village[v.code] = v; });
          (report.grids || []).forEach(function (g) { index.grid[g.code] = g; });
          state.coverage = index;
          restyleChoropleths();
          showSummary(report, early);
          document.documentElement.dataset.coverageLoaded = "true";
        })
        .catch(function (error) {
          showProblem(state.page.messages.coverageFailed);
          console.error("coverage not loaded:", error);
        });
    }

    // -- the summary panel: the town's headline figures and their change since yesterday --------

    var SUMMARY = [
      ["screened", "households"],
      ["screened_24h", "households"],
      ["reached", "households"],
      ["never_visited", null],
      ["leaks", null],
      ["checkpoints_fully_staffed", "checkpoints"],
    ];

    function headline(town, name, of) {
      var value = town[name];
      if (value === null || value === undefined) {
        return null; // withheld by the disclosure rules
      }
      return of ? (town[of] ? (100 * value) / town[of] : null) : value;
    }

    function dayBefore(isoMoment) {
      var day = new Date(Date.parse(isoMoment) - 24 * 3600 * 1000);
      return day.toISOString().slice(0, 10);
    }

    function yesterdayUrl(day) {
      return state.page.coverageUrl + "?level=town&as_of=" + day;
    }

    function showSummary(report, early) {
      var panel = document.getElementById("map-summary");
      if (!panel || !report.town) {
        return;
      }
      var messages = state.page.messages;
      var labels = {};
      state.page.coverageFields.forEach(function (f) { labels[f[0]] = f[1]; });
      panel.hidden = false;
      var list = panel.querySelector("dl") || element("dl", "", panel);
      list.textContent = "";
      var cells = {};
      SUMMARY.forEach(function (item) {
        var value = headline(report.town, item[0], item[1]);
        element("dt", "", list).textContent = labels[item[0]] || messages[item[0]] || item[0];
        var dd = element("dd", "summary-" + item[0], list);
        dd.textContent = value === null ? "—" : (item[1] ? value.toFixed(1) + " %" : String(value));
        cells[item[0]] = { dd: dd, value: value, share: Boolean(item[1]) };
      });
      showCommandPost(report.command_post, list, messages);
      var day = dayBefore(report.as_of);
      (early && early.day === day ? early.body : getJson(yesterdayUrl(day)))
        .then(function (before) {
          SUMMARY.forEach(function (item) {
            var cell = cells[item[0]];
            var then = headline(before.town || {}, item[0], item[1]);
            if (cell.value === null || then === null) {
              return;
            }
            var change = cell.value - then;
            var delta = element("span", "summary-change", cell.dd);
            delta.textContent = " (" + (change >= 0 ? "+" : "") +
              (cell.share ? change.toFixed(1) + " pt" : String(change)) + ")";
            delta.title = messages.sinceYesterday;
          });
          panel.dataset.compared = "true";
        })
        .catch(function (error) {
          console.error("yesterday's figures not loaded:", error);
        });
    }

    // The command post's figures of the same report: enterprises approved and not reviewed yet,
    // publicity points not checked in 7 days, places overdue for disinfection, units below a
    // stock threshold (places and units, no change since yesterday shown).
    function showCommandPost(post, list, messages) {
      if (!post) {
        return;
      }
      [
        ["enterprisesApproved", post.enterprises.approved],
        ["enterprisesPending", post.enterprises.pending],
        ["publicityUnchecked", post.publicity_points.not_checked_7_days],
        ["disinfectionOverdue", post.disinfection && post.disinfection.overdue],
        ["suppliesBelow", post.supplies && post.supplies.holders_below_threshold],
      ].forEach(function (row) {
        element("dt", "", list).textContent = messages[row[0]] || row[0];
        element("dd", "summary-" + row[0], list).textContent =
          row[1] === null || row[1] === undefined ? "—" : String(row[1]);
      });
    }

    // -- screening campaigns -----------------------------------------------------------------

    function getJson(url) {
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        });
    }

    function activeCampaigns(campaigns, now) {
      return campaigns.filter(function (c) {
        return Date.parse(c.start) <= now && now <= Date.parse(c.deadline);
      });
    }

    function progressIndex(body) {
      // Grids from the progress; a village sums its grids (the coverage report names them).
      var index = { grid: {}, village: {} };
      var villageOf = {};
      ((state.coverageReport && state.coverageReport.grids) || []).forEach(function (g) {
        villageOf[g.code] = g.village;
      });
      (body.grids || []).forEach(function (g) {
        index.grid[g.grid] = g;
        var village = villageOf[g.grid];
        if (!village) {
          return;
        }
        var sum = index.village[village] || (index.village[village] = { households: 0, seen: 0 });
        sum.households = sum.households === null || g.households === null
          ? null : sum.households + g.households;
        sum.seen = sum.seen === null || g.seen === null ? null : sum.seen + g.seen;
      });
      return index;
    }

    function loadProgress() {
      if (!state.page || !state.page.campaignsUrl || state.campaign === null) {
        return;
      }
      var url = state.page.campaignsUrl + "/" + encodeURIComponent(state.campaign) + "/progress";
      getJson(url)
        .then(function (body) {
          state.progressBody = body;
          state.progress = progressIndex(body);
          restyleChoropleths();
          document.documentElement.dataset.campaignLoaded = String(state.campaign);
        })
        .catch(function (error) {
          showProblem(state.page.messages.coverageFailed);
          console.error("campaign progress not loaded:", error);
        });
    }

    function loadCampaigns(whenLoaded) {
      if (!state.page || !state.page.campaignsUrl) {
        return;
      }
      getJson(state.page.campaignsUrl)
        .then(function (body) {
          // Active campaigns, the nearest deadline first (as the API lists them).
          state.campaigns = activeCampaigns(body.campaigns || [], Date.now());
          if (state.campaigns.length) {
            state.campaign = state.campaigns[0].id;
            state.colourBy = "campaign";
            loadProgress();
          }
          whenLoaded();
        })
        .catch(function (error) {
          console.error("campaigns not loaded:", error);
        });
    }

    return {
      coverageOf: coverageOf,
      coverageColour: coverageColour,
      restyleChoropleths: restyleChoropleths,
      loadCoverage: loadCoverage,
      loadProgress: loadProgress,
      loadCampaigns: loadCampaigns,
    };
  };
})();
