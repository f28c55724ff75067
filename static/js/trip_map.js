/*
 * The trace map of a trip (trips/templates/trips/_trace_map.html, data from
 * trips.map_layers.trip_map). Layers, each switched from the legend's checkboxes:
 *   zones  the roads (as their corridors) and areas approved at the trip's time, the set
 *          the verifier cut the trip with (JSON in #trip-zones);
 *   trace  the processed trace (GeoJSON from GET /api/v1/trips/{id}/trace/), one colour
 *          per step tag, gaps dashed so they read as "no line was driven here";
 *   ends   start and end markers, labelled in words;
 *   other-N the trips this one conflicts with (#conflict-traces), dashed, underneath.
 * A click on the trace shows that step's time (Beijing time), speed, mode and reason.
 * Everything is built from text nodes: no HTML strings.
 */
(function () {
  "use strict";

  function json(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    });
  }

  // "2026-03-02 09:00:05" in Asia/Shanghai, whatever the browser's own time zone.
  const CLOCK = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  function beijing(seconds) {
    const parts = {};
    CLOCK.formatToParts(new Date(seconds * 1000)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + ":" + parts.second;
  }

  function metres(a, b) {  // haversine, [lon, lat] pairs
    const rad = Math.PI / 180;
    const dLat = (b[1] - a[1]) * rad;
    const dLon = (b[0] - a[0]) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
  }

  function factList(rows) {
    const list = document.createElement("dl");
    list.className = "step-facts";
    rows.forEach(function (row) {
      const dt = document.createElement("dt");
      dt.textContent = row[0];
      const dd = document.createElement("dd");
      dd.textContent = row[1];
      dd.dataset.field = row[2];
      list.append(dt, dd);
    });
    return list;
  }

  // The step of a run nearest to where it was clicked: index i is the step from vertex i to i+1.
  function nearestStep(coords, latlng) {
    let best = 0;
    let bestD = Infinity;
    for (let i = 0; i + 1 < coords.length; i += 1) {
      const mid = [(coords[i][0] + coords[i + 1][0]) / 2, (coords[i][1] + coords[i + 1][1]) / 2];
      const d = metres(mid, [latlng.lng, latlng.lat]);
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  function stepFacts(feature, i, words) {
    const props = feature.properties;
    const f = words.fields;
    const rows = [[f.kind, words.tags[props.tag] || props.tag, "kind"]];
    const times = props.t;
    if (feature.geometry.type === "LineString" && times && times.length > i + 1) {
      const coords = feature.geometry.coordinates;
      const hours = (times[i + 1] - times[i]) / 3600;
      rows.push([f.time, beijing(times[i]), "time"]);
      if (hours > 0) rows.push([f.speed, (metres(coords[i], coords[i + 1]) / 1000 / hours).toFixed(1) + " " + words.speed_unit, "speed"]);
    }
    rows.push([f.mode, words.modes[props.tag] || "—", "mode"]);
    rows.push([f.reason, words.reasons[props.tag] || "", "reason"]);
    return factList(rows);
  }

  function endMarker(latlng, text, className, facts) {
    const label = document.createElement("span");
    label.textContent = text;
    const marker = L.marker(latlng, {
      icon: L.divIcon({ className: "trip-end-marker " + className, html: label, iconSize: null }),
      title: text, alt: text, keyboard: true,
    });
    return marker.bindPopup(facts);
  }

  function ends(geojson, words) {
    const lines = geojson.features.filter(function (f) { return f.geometry.type === "LineString"; });
    const group = L.layerGroup();
    if (!lines.length) return group;
    const first = lines[0];
    const last = lines[lines.length - 1];
    const a = first.geometry.coordinates[0];
    const b = last.geometry.coordinates[last.geometry.coordinates.length - 1];
    const at = function (feature, index) {
      const t = feature.properties.t;
      return t ? [[words.fields.time, beijing(t[index === -1 ? t.length - 1 : index]), "time"]] : [];
    };
    group.addLayer(endMarker([a[1], a[0]], words.start, "trip-start", factList(at(first, 0))));
    group.addLayer(endMarker([b[1], b[0]], words.end, "trip-end", factList(at(last, -1))));
    return group;
  }

  function init() {
    const element = document.getElementById("trace-map");
    if (!element) return;
    const colors = json("trace-colors");
    const words = json("trace-labels");
    const status = document.getElementById("trace-map-status");
    const map = YQMap.create(element);
    const layers = {};
    element.yqMap = map;
    element.yqLayers = layers;

    const zones = json("trip-zones");
    layers.zones = L.geoJSON(zones, {
      className: "trip-zone",  // passed on to each path (Leaflet's GeoJSON options)
      style: { color: element.dataset.zoneColor, weight: 2, fillOpacity: 0.12, fillColor: element.dataset.zoneColor },
      onEachFeature: function (feature, layer) {
        const p = feature.properties;
        const f = words.fields;
        layer.bindPopup(factList([[f.name, p.name, "name"], [f.kind, p.kind, "kind"], [f.ref, p.ref || "—", "ref"], [f.valid, p.valid, "valid"]]));
      },
    }).addTo(map);

    getJSON(element.dataset.traceUrl)
      .then(function (geojson) {
        const trace = YQMap.addGeoJSON(map, geojson, { colorBy: "tag", colors: colors, weight: 5 });
        trace.eachLayer(function (line) {
          if (line.feature.properties.tag === "gap" && line.setStyle) line.setStyle({ dashArray: "6 8", weight: 3 });
          line.on("click", function (event) {
            const feature = line.feature;
            const i = feature.geometry.type === "LineString" ? nearestStep(feature.geometry.coordinates, event.latlng) : 0;
            L.popup().setLatLng(event.latlng).setContent(stepFacts(feature, i, words)).openOn(map);
          });
        });
        layers.trace = trace;
        layers.ends = ends(geojson, words).addTo(map);
        YQMap.fit(map, [trace]);
        element.dataset.loaded = String(geojson.features.length);
        drawOthers(map, element, layers);
        wireLegend(map, layers);
      })
      .catch(function () {
        status.textContent = words.failed;
        wireLegend(map, layers);
      });
  }

  // The legend's checkboxes switch their layer on and off (a layer still loading is
  // added on arrival only if its box is ticked).
  function wireLegend(map, layers) {
    document.querySelectorAll(".map-layers input[data-layer]").forEach(function (box) {
      box.addEventListener("change", function () {
        const layer = layers[box.dataset.layer];
        if (!layer) return;
        if (box.checked) map.addLayer(layer); else map.removeLayer(layer);
      });
    });
  }

  function boxTicked(name) {
    const box = document.querySelector('.map-layers input[data-layer="' + name + '"]');
    return !box || box.checked;
  }

  // The trips this one conflicts with (trips/_conflicts.html), one colour each, dashed,
  // under the trip's own trace.
  function drawOthers(map, element, layers) {
    const others = json("conflict-traces");
    if (!others) return;
    let drawn = 0;
    others.forEach(function (other, index) {
      getJSON(other.url)
        .then(function (geojson) {
          const layer = L.geoJSON(geojson, {
            style: { color: other.color, weight: 3, dashArray: "4 6", opacity: 0.9 },
            pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, { radius: 4, color: other.color }); },
            onEachFeature: function (feature, featureLayer) {
              featureLayer.bindPopup(factList([[json("trace-labels").fields.kind, other.label, "kind"]]));
            },
          });
          const name = "other-" + index;
          layers[name] = layer;
          if (boxTicked(name)) {
            layer.addTo(map);
            layer.eachLayer(function (line) { if (line.bringToBack) line.bringToBack(); });
          }
          drawn += 1;
          element.dataset.othersLoaded = String(drawn);
        })
        .catch(function () {});
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
