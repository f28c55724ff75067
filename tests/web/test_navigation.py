"""Every page can be reached: each role follows the links from the dashboard, and every page
without an id in its address that the role may open is among those reached (the ones with
an id are reached through their lists: tests/web/test_language_walk.py)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from operators.models import User
from tests.conftest import World
from tests.web.test_language_walk import walked  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

# Not pages to reach by a link: logging in and out, and the language switch's POST.
NOT_PAGES = frozenset({"/accounts/login/", "/accounts/logout/", "/i18n/setlang/"})
SKIP = ("/api/", "/admin/", "/static/", "/media/")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/") and not href.startswith("//"):
            self.links.append(urlsplit(href).path)


def fixed_pages() -> list[str]:
    """The web pages whose address holds no id (lists, dashboards, forms of their own)."""
    found: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif "<" not in route and "(" not in route and "^" not in route:
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return [p for p in found if not p.startswith(SKIP) and p not in NOT_PAGES]


def reached(user: User) -> set[str]:
    """Every page reached by following links from the dashboard (each address once)."""
    client = Client()
    client.force_login(user)
    seen: set[str] = set()
    todo = ["/"]
    while todo:
        path = todo.pop()
        if path in seen or path.startswith(SKIP) or len(seen) > 400:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        parser = _Links()
        parser.feed(response.content.decode())
        todo.extend(link for link in parser.links if link not in seen)
    return seen


@pytest.mark.parametrize("role", ["staff_a", "bureau", "finance", "admin"])
def test_every_page_a_role_may_open_is_reached_by_its_links(walked: World, role: str) -> None:  # noqa: F811
    user = getattr(walked, role)
    client = Client()
    client.force_login(user)
    may_open = {page for page in fixed_pages() if client.get(page).status_code == 200}
    assert "/incidents/" in may_open
    assert sorted(may_open - reached(user)) == []


@pytest.mark.parametrize("role", ["staff_a", "bureau", "finance", "admin"])
def test_the_incidents_are_in_every_roles_navigation(walked: World, role: str) -> None:  # noqa: F811
    client = Client()
    client.force_login(getattr(walked, role))
    page = client.get("/").content.decode()
    nav = page[page.index('class="main-nav"') :]
    assert 'href="/incidents/"' in nav[: nav.index("</nav>")]
