"""The wizard's "🔗 Add a link" line: `https://… Label` (the label is optional)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

URL_MAX = 500
LABEL_MAX = 64


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    #: None: the default label
    label: str | None


def parse_link(text: str) -> Link | None:
    """An http(s) address with a host, then an optional label of up to `LABEL_MAX`
    characters; None when malformed."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return None
    url = parts[0]
    if len(url) > URL_MAX or any(ord(c) < 33 for c in url):
        return None
    try:
        split = urlsplit(url)
    except ValueError:
        return None
    if split.scheme.lower() not in ("http", "https") or not split.hostname:
        return None
    label = " ".join(parts[1].split()) if len(parts) > 1 else ""
    if len(label) > LABEL_MAX:
        return None
    return Link(url, label or None)
