"""`?format=geojson`: GeoJSON (RFC 7946) as its own media type, for maps."""

from rest_framework.renderers import JSONRenderer


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"
