"""Pieces of the security settings that need a little computing. No Django imports: the
settings module imports this."""

from __future__ import annotations

from urllib.parse import urlsplit


def tile_source(url: str) -> str | None:
    """The Content-Security-Policy source that lets the browser load a tile template's images.

    Tile templates name servers with placeholders (`https://t{s}.tianditu.gov.cn/...`); a CSP
    host may only have a wildcard as its leftmost label, so a templated label becomes `*`.
    None when there is no base map (or the template has no host).
    """
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    labels = parts.netloc.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    return f"{parts.scheme}://{'.'.join(labels)}"
