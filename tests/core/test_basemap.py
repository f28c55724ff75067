"""The base-map choice from the environment (core/basemap.py) and the notice for admins."""

from __future__ import annotations

import pytest

from core.basemap import base_map


def test_no_setting_means_no_base_map() -> None:
    chosen = base_map(tiles="", tianditu_key="", tile_url="", attribution="")
    assert chosen.source == "none"
    assert not chosen.configured
    assert chosen.csp_sources() == []


def test_a_tianditu_key_alone_picks_tianditu_vector_and_label_layers() -> None:
    chosen = base_map(tiles="", tianditu_key="k123", tile_url="", attribution="")
    assert chosen.source == "tianditu"
    urls = [layer.url for layer in chosen.layers]
    assert "/vec_w/wmts?" in urls[0]
    assert "LAYER=vec" in urls[0]
    assert urls[0].endswith("tk=k123")
    assert "/cva_w/wmts?" in urls[1]
    assert "TILEMATRIXSET=w" in urls[1]
    assert chosen.csp_sources() == ["https://*.tianditu.gov.cn"]


def test_tianditu_without_a_key_draws_no_tiles_and_says_why() -> None:
    chosen = base_map(tiles="tianditu", tianditu_key="", tile_url="", attribution="")
    assert not chosen.configured
    assert chosen.problem == "no_key"


def test_osm_is_one_layer_with_its_attribution() -> None:
    chosen = base_map(tiles="OSM", tianditu_key="", tile_url="", attribution="")
    assert [layer.attribution for layer in chosen.layers] == ["© OpenStreetMap contributors"]
    assert chosen.csp_sources() == ["https://tile.openstreetmap.org"]


def test_a_tile_url_alone_is_the_custom_source() -> None:
    chosen = base_map(
        tiles="",
        tianditu_key="",
        tile_url="https://tiles.example.cn/{z}/{x}/{y}.png",
        attribution="x",
    )
    assert chosen.source == "custom"
    assert chosen.csp_sources() == ["https://tiles.example.cn"]


def test_none_wins_over_a_key() -> None:
    assert not base_map(tiles="none", tianditu_key="k", tile_url="", attribution="").configured


def test_an_unknown_source_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="MAP_TILES"):
        base_map(tiles="google", tianditu_key="", tile_url="", attribution="")
