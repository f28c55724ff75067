/*
 * The trace map of a trip (trips/templates/trips/_trace_map.html): fetches the processed
 * trace (GeoJSON from GET /api/v1/trips/{id}/trace/, steps tagged as in
 * trips.geometry.STEP_TAGS, outliers as Points) and draws it  with the map helper, one
 * colour per tag; gaps are dashed so they read as "no line was driven here".
 */
(function () {
  "use strict";

  function json(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function init() {
    const element = document.getElementById("trace-map");
    if (!element) return;
    const colors = json("trace-colors");
    const words = json("trace-labels");
    const status = document.getElementById("trace-map-status");
    const map = YQMap.create(element);
    element.yqMap = map;
    fetch(element.dataset.traceUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (geojson) {
        geojson.features.forEach(function (feature) {
          const props = feature.properties || (feature.properties = {});
          props.kind = words.tags[props.tag] || props.tag;
          props.labels = { kind: words.kind };
        });
        const layer = YQMap.addGeoJSON(map, geojson, { colorBy: "tag", colors: colors, popup: ["kind"], weight: 5 });
        layer.eachLayer(function (line) {
          if (line.feature.properties.tag === "gap" && line.setStyle) line.setStyle({ dashArray: "6 8", weight: 3 });
        });
        YQMap.fit(map, [layer]);
        element.dataset.loaded = String(geojson.features.length);
        drawOthers(map, element);
      })
      .catch(function () {
        status.textContent = words.failed;
      });
  }

  // The trips this one conflicts with (trips/_conflicts.html), drawn on the same map in
  // one colour each, dashed, under the trip's own trace.
  function drawOthers(map, element) {
    const node = document.getElementById("conflict-traces");
    if (!node) return;
    let drawn = 0;
    JSON.parse(node.textContent).forEach(function (other) {
      fetch(other.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (geojson) {
          const colors = {};
          geojson.features.forEach(function (feature) {
            const props = feature.properties || (feature.properties = {});
            colors[props.tag] = other.color;
            props.kind = other.label;
            props.labels = { kind: other.label };
          });
          const layer = YQMap.addGeoJSON(map, geojson, { colorBy: "tag", colors: colors, popup: ["kind"], weight: 3 });
          layer.eachLayer(function (line) {
            if (line.setStyle) line.setStyle({ dashArray: "4 6" });
            if (line.bringToBack) line.bringToBack();
          });
          drawn += 1;
          element.dataset.othersLoaded = String(drawn);
        })
        .catch(function () {});
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
