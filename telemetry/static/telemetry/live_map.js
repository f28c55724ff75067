/*
 * The live map (telemetry/templates/telemetry/live_map.html): polls the last positions
 * (GET /api/v1/terminals/live/) and redraws them with the map helper, one colour per mode.
 */
(function () {
  "use strict";

  const COLORS = { auto: "#1b6e3a", manual: "#b35c00" };

  function init() {
    const element = document.getElementById("live-map");
    if (!element) return;
    const status = document.getElementById("live-map-status");
    const map = YQMap.create(element);
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

    function poll() {
      fetch(element.dataset.liveUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (positions) {
          draw(positions);
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
