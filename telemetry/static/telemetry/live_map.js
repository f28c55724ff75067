/*
 * The live map (telemetry/templates/telemetry/live_map.html): polls the last positions
 * (GET /api/v1/terminals/live/) and redraws them with the map helper, one colour per mode,
 * and the table under it, row for row as the server renders it (times in the site's zone).
 */
(function () {
  "use strict";

  const COLORS = { auto: "#1b6e3a", manual: "#b35c00" };

  function init() {
    const element = document.getElementById("live-map");
    if (!element) return;
    const status = document.getElementById("live-map-status");
    const table = document.getElementById("live-table");
    const map = YQMap.create(element);
    // "2026-03-02 09:00:00": Swedish dates are ISO-shaped, as the server's Y-m-d H:i:s.
    const timeFormat = new Intl.DateTimeFormat("sv-SE", {
      timeZone: element.dataset.timeZone,
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
    let layer = null;
    let fitted = false;

    function draw(positions) {
      const geojson = {
        type: "FeatureCollection",
        features: positions.map(function (p) {
          return {
            type: "Feature",
            geometry: { type: "Point", coordinates: [p.lon, p.lat] },
            properties: {
              mode: p.autonomous ? "auto" : "manual",
              plate: p.plate,
              company: p.operator_name,
              modeText: p.autonomous ? element.dataset.autoLabel : element.dataset.manualLabel,
              lastSeen: p.last_fix_at,
            },
          };
        }),
      };
      if (layer) map.removeLayer(layer);
      layer = YQMap.addGeoJSON(map, geojson, {
        colorBy: "mode",
        colors: COLORS,
        popup: ["plate", "company", "modeText", "lastSeen"],
      });
      if (!fitted && positions.length) {
        YQMap.fit(map, [layer]);
        fitted = true;
      }
    }

    function cell(text, className) {
      const td = document.createElement("td");
      if (className) td.className = className;
      td.textContent = text;
      return td;
    }

    function fill(positions) {
      const rows = positions.map(function (p) {
        const tr = document.createElement("tr");
        tr.append(
          cell(p.plate, "nowrap"),
          cell(p.operator_name, "name"),
          cell(p.lat.toFixed(6) + ", " + p.lon.toFixed(6), "mono nowrap"),
          cell(p.autonomous ? element.dataset.autoLabel : element.dataset.manualLabel),
          cell(p.in_zone ? element.dataset.yesLabel : element.dataset.noLabel),
          cell(timeFormat.format(new Date(p.last_fix_at)), "mono nowrap")
        );
        return tr;
      });
      if (!rows.length) {
        const empty = cell(element.dataset.emptyLabel, "empty");
        empty.colSpan = 6;
        rows.push(document.createElement("tr"));
        rows[0].append(empty);
      }
      table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
    }

    function poll() {
      fetch(element.dataset.liveUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (positions) {
          draw(positions);
          fill(positions);
          status.textContent = "";
        })
        .catch(function (error) {
          status.textContent = String(error);
        });
    }

    poll();
    setInterval(poll, Number(element.dataset.refreshMs) || 5000);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
