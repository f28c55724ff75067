"""The base map on map pages: the layers the page is given, the admins-only notice, and
the Content-Security-Policy following the chosen tiles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from core.basemap import base_map
from operators.models import User
from tests.conftest import World

pytestmark = pytest.mark.django_db


def map_settings_of(user: User) -> dict[str, Any]:
    client = Client()
    client.force_login(user)
    response = client.get("/segments/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<script id="map-settings" type="application/json">') + len(
        '<script id="map-settings" type="application/json">'
    )
    result: dict[str, Any] = json.loads(html[start : html.index("</script>", start)])
    return result


def test_an_admin_is_told_there_is_no_base_map_and_how_to_set_one(world: World) -> None:
    conf = map_settings_of(world.admin)
    assert conf["tileLayers"] == []
    assert "MAP_TILES=tianditu" in conf["notice"]
    assert "TIANDITU_KEY" in conf["notice"]


def test_the_bureau_sees_the_roads_without_the_notice(world: World) -> None:
    conf = map_settings_of(world.bureau)
    assert conf == {"tileLayers": []}


def test_an_admin_is_told_a_tianditu_choice_lacks_its_key(world: World, settings: Any) -> None:
    settings.BASE_MAP = base_map(tiles="tianditu", tianditu_key="", tile_url="", attribution="")
    assert "TIANDITU_KEY" in map_settings_of(world.admin)["notice"]


def test_a_configured_tianditu_reaches_the_page_without_a_notice(
    world: World, settings: Any
) -> None:
    settings.BASE_MAP = base_map(tiles="tianditu", tianditu_key="k1", tile_url="", attribution="")
    conf = map_settings_of(world.admin)
    assert "notice" not in conf
    assert [layer["subdomains"] for layer in conf["tileLayers"]] == ["01234567", "01234567"]
