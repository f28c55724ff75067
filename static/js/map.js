/*
 * The map helper every map page uses (docs/ui.md, "Maps"). Needs Leaflet loaded first
 * (templates/includes/map_assets.html does both).
 *
 *   const map = YQMap.create(element);                  // base map from settings.BASE_MAP
 *   const layer = YQMap.addGeoJSON(map, geojson, {
 *     colorBy: "status",                                // a feature property...
 *     colors: {approved: "#1b6e3a", draft: "#0b4fa8"},  // ...and a colour per value
 *     popup: ["name", "status"],                        // properties listed in the popup
 *   });
 *   YQMap.fit(map, [layer]);
 *
 * Or without writing JS: <div class="map" data-map data-geojson="segments-data"
 * data-color-by="status" data-colors='{"approved":"#1b6e3a"}' data-popup="name,status">
 * where "segments-data" is the id of a {{ value|json_script:"segments-data" }} element.
 *
 * All coordinates are WGS-84 (GeoJSON order: lon, lat). Base-map tiles must be WGS-84 /
 * CGCS2000 (e.g. 天地图); GCJ-02 web maps would draw every layer about 500 m off.
 */
(function () {
  "use strict";

  // Yangquan city centre: where an empty map opens.
  const HOME = { center: [37.857, 113.58], zoom: 12 };
  const DEFAULT_COLOR = "#4f5a6b";

  function settings() {
    const node = document.getElementById("map-settings");
    return node ? JSON.parse(node.textContent) : {};
  }

  function create(element, options) {
    const opts = Object.assign({}, HOME, options || {});
    const map = L.map(element, { center: opts.center, zoom: opts.zoom, keyboard: true });
    const conf = settings();
    // Bottom first: 天地图 is a vector layer and a label layer (core/basemap.py).
    (conf.tileLayers || []).forEach(function (layer) {
      const tileOptions = { attribution: layer.attribution || "", maxZoom: layer.max_zoom || 18 };
      if (layer.subdomains) tileOptions.subdomains = layer.subdomains;
      L.tileLayer(layer.url, tileOptions).addTo(map);
    });
    if (conf.notice) addNotice(map, conf.notice);
    return map;
  }

  // Admins only (the server decides): no base map, and how to configure one.
  function addNotice(map, text) {
    const Notice = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd: function () {
        const box = L.DomUtil.create("p", "map-notice");
        box.setAttribute("role", "note");
        box.textContent = text;
        L.DomEvent.disableClickPropagation(box);
        return box;
      },
    });
    new Notice().addTo(map);
  }

  function colorFor(feature, opts) {
    const props = (feature && feature.properties) || {};
    if (opts.colorBy && opts.colors && props[opts.colorBy] in opts.colors) {
      return opts.colors[props[opts.colorBy]];
    }
    return props.color || opts.defaultColor || DEFAULT_COLOR;
  }

  // Built from text nodes, never HTML strings: property values are user data.
  function popupContent(props, keys) {
    const list = document.createElement("dl");
    keys.forEach(function (key) {
      if (props[key] === undefined || props[key] === null) return;
      const dt = document.createElement("dt");
      dt.textContent = (props.labels && props.labels[key]) || key;
      const dd = document.createElement("dd");
      dd.textContent = String(props[key]);
      list.append(dt, dd);
    });
    return list;
  }

  function addGeoJSON(map, geojson, options) {
    const opts = options || {};
    const layer = L.geoJSON(geojson, {
      style: function (feature) {
        const color = colorFor(feature, opts);
        return { color: color, fillColor: color, weight: opts.weight || 4, opacity: 0.9, fillOpacity: 0.2 };
      },
      pointToLayer: function (feature, latlng) {
        const color = colorFor(feature, opts);
        return L.circleMarker(latlng, { radius: 5, color: color, fillColor: color, fillOpacity: 0.8 });
      },
      onEachFeature: function (feature, featureLayer) {
        if (opts.popup && opts.popup.length) {
          featureLayer.bindPopup(popupContent(feature.properties || {}, opts.popup));
        }
      },
    });
    return layer.addTo(map);
  }

  function fit(map, layers, padding) {
    let bounds = null;
    layers.forEach(function (layer) {
      const b = layer.getBounds && layer.getBounds();
      if (b && b.isValid()) bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    });
    if (bounds) map.fitBounds(bounds, { padding: [padding || 20, padding || 20] });
    return bounds;
  }

  function autoInit(element) {
    const map = create(element);
    const source = element.dataset.geojson && document.getElementById(element.dataset.geojson);
    if (source) {
      const layer = addGeoJSON(map, JSON.parse(source.textContent), {
        colorBy: element.dataset.colorBy,
        colors: element.dataset.colors ? JSON.parse(element.dataset.colors) : {},
        popup: element.dataset.popup ? element.dataset.popup.split(",") : [],
      });
      fit(map, [layer]);
    }
    element.yqMap = map;
  }

  window.YQMap = { create: create, addGeoJSON: addGeoJSON, fit: fit, HOME: HOME };
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(autoInit);
  });
})();
