"""The base map under every map page: which tile source, and what the browser may load.

No Django imports: the settings module computes the layers once from the environment
(`MAP_TILES`, `TIANDITU_KEY`, `MAP_TILE_URL`, `MAP_TILE_ATTRIBUTION`; docs/configuration.md).

- `tianditu`: 天地图, the national platform. Needs a key (tk). The `vec_w` vector layer and
  the `cva_w` Chinese label layer are Web Mercator tiles in CGCS2000 ≈ WGS-84, which is how
  the ledger stores every geometry: no GCJ-02 shift.
- `osm`: OpenStreetMap's standard tiles (WGS-84 / Web Mercator too). Fine for a demo; its
  tile usage policy rules out heavy production use.
- `custom`: any WGS-84 tile URL template in `MAP_TILE_URL`.
- `none`: no base map; the approved roads and areas draw on a plain background.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .security import tile_source

TIANDITU = "tianditu"
OSM = "osm"
CUSTOM = "custom"
NONE = "none"
SOURCES = (TIANDITU, OSM, CUSTOM, NONE)

_TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/%(layer)s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=%(layer)s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%(key)s"
)
_TIANDITU_ATTRIBUTION = "© 天地图 (国家地理信息公共服务平台)"
_OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTRIBUTION = "© OpenStreetMap contributors"


@dataclass(frozen=True)
class TileLayer:
    url: str
    attribution: str
    subdomains: str = ""
    max_zoom: int = 18


@dataclass(frozen=True)
class BaseMap:
    """The chosen source and its layers (bottom first); `problem` says why there is none
    when one was asked for but cannot be drawn (e.g. 天地图 without a key)."""

    source: str
    layers: tuple[TileLayer, ...]
    problem: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.layers)

    def csp_sources(self) -> list[str]:
        """The img-src entries the layers need, each once."""
        sources = [tile_source(layer.url) for layer in self.layers]
        return list(dict.fromkeys(s for s in sources if s))

    def for_browser(self) -> list[dict[str, Any]]:
        return [asdict(layer) for layer in self.layers]


def base_map(*, tiles: str, tianditu_key: str, tile_url: str, attribution: str) -> BaseMap:
    """The base map the environment asks for.

    `tiles` empty picks for you: `custom` when a `MAP_TILE_URL` is set, else `tianditu`
    when a key is set, else `none`. An unknown value is a configuration error.
    """
    choice = tiles.strip().lower()
    if not choice:
        choice = CUSTOM if tile_url else TIANDITU if tianditu_key else NONE
    if choice not in SOURCES:
        raise ValueError(f"MAP_TILES={tiles!r}: expected one of {', '.join(SOURCES)}")
    if choice == TIANDITU:
        if not tianditu_key:
            return BaseMap(TIANDITU, (), problem="no_key")
        return BaseMap(
            TIANDITU,
            tuple(
                TileLayer(
                    _TIANDITU_URL % {"layer": layer, "key": tianditu_key},
                    attribution or _TIANDITU_ATTRIBUTION,
                    subdomains="01234567",
                )
                for layer in ("vec", "cva")
            ),
        )
    if choice == OSM:
        return BaseMap(OSM, (TileLayer(_OSM_URL, attribution or _OSM_ATTRIBUTION, max_zoom=19),))
    if choice == CUSTOM:
        if not tile_url:
            return BaseMap(CUSTOM, (), problem="no_url")
        return BaseMap(CUSTOM, (TileLayer(tile_url, attribution, subdomains="abc"),))
    return BaseMap(NONE, ())
