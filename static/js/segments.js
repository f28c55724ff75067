/*
 * Road-segment maps (routes/templates/routes/). Needs Leaflet and static/js/map.js first,
 * and Leaflet-Geoman (static/vendor/leaflet-geoman/) on the draw page.
 *
 *   <div data-segments-map="segments-data">  the segments of a {{ x|json_script:"segments-data" }}
 *                                            FeatureCollection, coloured by properties.status
 *   <div data-draw-map data-geometry-field="id_geometry" data-context="context-data">
 *                                            draw or edit one road (line) or area (polygon);
 *                                            the GeoJSON goes into the form's geometry field
 *
 * Colours come from the page (#segment-colors, the same as the legend); drafts are dashed and
 * submissions dotted, so colour is not the only cue. Popups are built from text nodes:
 * names are user data, never HTML.
 */
(function () {
  "use strict";

  const DASHES = { draft: "8 6", submitted: "2 6" };
  const CONTEXT_COLOR = "#8a94a6";

  function json(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function styleFor(colors) {
    return function (feature) {
      const status = (feature.properties || {}).status;
      const color = colors[status] || "#4f5a6b";
      return {
        color: color,
        fillColor: color,
        weight: 5,
        opacity: 0.95,
        fillOpacity: 0.18,
        dashArray: DASHES[status] || null,
        className: "segment-shape segment-" + status,
      };
    };
  }

  function popup(props, texts) {
    const box = document.createElement("div");
    const title = document.createElement("strong");
    if (props.url) {
      const link = document.createElement("a");
      link.href = props.url;
      link.textContent = props.name;
      link.title = texts.open;
      title.append(link);
    } else {
      title.textContent = props.name;
    }
    box.append(title);
    [[texts.status, props.status_label], [texts.kind, props.kind_label]].forEach(function (pair) {
      if (!pair[1]) return;
      const line = document.createElement("div");
      line.textContent = pair[0] + ": " + pair[1];
      box.append(line);
    });
    return box;
  }

  function showSegments(element) {
    const data = json(element.dataset.segmentsMap);
    const colors = json("segment-colors") || {};
    const texts = json("segment-map-texts") || {};
    const map = YQMap.create(element);
    const layer = L.geoJSON(data, {
      style: styleFor(colors),
      onEachFeature: function (feature, featureLayer) {
        featureLayer.bindPopup(popup(feature.properties || {}, texts));
      },
    }).addTo(map);
    YQMap.fit(map, [layer]);
    element.yqMap = map;
  }

  // ---- drawing ---------------------------------------------------------------------------

  function drawMap(element) {
    const field = document.getElementById(element.dataset.geometryField);
    const texts = json("draw-texts") || {};
    const invalid = element.parentNode.querySelector(".draw-invalid");
    const kindInputs = document.querySelectorAll('input[name="kind"]');
    const widthField = document.querySelector(".field-corridor_half_width_m");
    const twoWayField = document.querySelector(".field-two_way");
    const roadCodeField = document.querySelector(".field-road_code");
    const map = YQMap.create(element);
    map.pm.setLang(document.documentElement.lang.indexOf("zh") === 0 ? "zh" : "en");

    const context = L.geoJSON(json(element.dataset.context), {
      pmIgnore: true,
      interactive: false,
      style: { color: CONTEXT_COLOR, weight: 3, opacity: 0.8, fillOpacity: 0.08 },
    }).addTo(map);

    let drawn = null; // the one road or area being drawn

    function kind() {
      const checked = document.querySelector('input[name="kind"]:checked');
      return checked ? checked.value : "road";
    }

    function write() {
      field.value = drawn ? JSON.stringify(drawn.toGeoJSON(7).geometry) : "";
      invalid.hidden = true;
    }

    function adopt(layer) {
      if (drawn && drawn !== layer) map.removeLayer(drawn);
      drawn = layer;
      drawn.setStyle({ color: "#0b4fa8", weight: 5, fillOpacity: 0.2 });
      drawn.on("pm:edit", write);
    }

    // A pasted point is not a road or an area: shown as a dot for reference, never adopted
    // (markers have no setStyle), and the text box says why.
    let pointMarker = null;
    function showPoint(latlng) {
      pointMarker = L.circleMarker(latlng, {
        radius: 7, color: "#a4161a", fillColor: "#a4161a", fillOpacity: 0.6, pmIgnore: true,
      }).addTo(map);
    }

    // Every coordinate of a pasted layer a finite number (a point, or a line's or polygon's bounds).
    function finite(layer) {
      if (typeof layer.getLatLng === "function") {
        const at = layer.getLatLng();
        return Number.isFinite(at.lat) && Number.isFinite(at.lng);
      }
      if (typeof layer.getBounds !== "function") return false;
      const bounds = layer.getBounds();
      return bounds.isValid() && [bounds.getSouth(), bounds.getWest(), bounds.getNorth(), bounds.getEast()].every(Number.isFinite);
    }

    // The field's text onto the map; "" when it shows, otherwise why it cannot.
    function read() {
      if (pointMarker) map.removeLayer(pointMarker);
      pointMarker = null;
      const text = field.value.trim();
      if (!text) return "";
      let layers;
      try {
        layers = L.geoJSON(JSON.parse(text)).getLayers();
      } catch (error) {
        return texts.invalidText || "";
      }
      if (layers.length !== 1) return texts.invalidText || "";
      const layer = layers[0];
      // 1e400 parses as Infinity: nothing drawable (the server refuses it with its reason).
      if (!finite(layer)) return texts.invalidText || "";
      if (typeof layer.setStyle !== "function" || typeof layer.getLatLngs !== "function") {
        if (layer.getLatLng) showPoint(layer.getLatLng());
        return texts.pointText || texts.invalidText || "";
      }
      adopt(layer);
      drawn.addTo(map);
      return "";
    }

    // Where the server found the problem (a self-intersection, a point outside the area).
    function markProblem() {
      const at = texts.problemPoint;
      if (!at) return null;
      const marker = L.circleMarker([at[1], at[0]], {
        radius: 9, color: "#a4161a", weight: 3, fillColor: "#ffffff", fillOpacity: 0.4,
        pmIgnore: true, className: "problem-point",
      }).addTo(map);
      marker.bindTooltip(texts.problemLabel || "", { permanent: true, direction: "top" });
      return marker;
    }

    function tools() {
      const road = kind() === "road";
      map.pm.removeControls();
      map.pm.addControls({
        position: "topleft",
        drawMarker: false,
        drawCircleMarker: false,
        drawCircle: false,
        drawRectangle: false,
        drawText: false,
        cutPolygon: false,
        rotateMode: false,
        dragMode: false,
        drawPolyline: road,
        drawPolygon: !road,
        editMode: true,
        removalMode: true,
      });
      // Road-only fields (corridor, two-way, road code) are hidden for an area.
      [widthField, twoWayField, roadCodeField].forEach(function (node) {
        if (node) node.hidden = !road;
      });
    }

    map.on("pm:create", function (event) {
      adopt(event.layer);
      write();
    });
    map.on("pm:remove", function (event) {
      if (event.layer === drawn) {
        drawn = null;
        write();
      }
    });
    field.addEventListener("change", function () {
      if (drawn) map.removeLayer(drawn);
      drawn = null;
      const problem = read();
      invalid.textContent = problem;
      invalid.hidden = !problem;
      if (!problem && drawn) YQMap.fit(map, [drawn]);
      else if (pointMarker) map.setView(pointMarker.getLatLng(), Math.max(map.getZoom(), 14));
    });
    kindInputs.forEach(function (input) {
      input.addEventListener("change", tools);
    });

    tools();
    const problem = read();
    // After a refused submit the server's error under the field already says what is wrong
    // (and for a point, in the same words): the map does not say it a second time.
    if (problem && field.getAttribute("aria-invalid") !== "true") {
      invalid.textContent = problem;
      invalid.hidden = false;
    }
    const marked = markProblem();
    YQMap.fit(map, drawn ? [drawn] : [context]);
    if (marked) map.setView(marked.getLatLng(), Math.max(map.getZoom(), 15));
    else if (!drawn && pointMarker) map.setView(pointMarker.getLatLng(), 15);
    element.yqMap = map;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-segments-map]").forEach(showSegments);
    document.querySelectorAll("[data-draw-map]").forEach(drawMap);
  });
})();
