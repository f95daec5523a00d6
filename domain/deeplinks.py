"""Deep-link payloads of `/start <payload>`: validation and parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass

PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_KIND_RE = re.compile(r"^([a-z]+)_([A-Za-z0-9-]{1,48})$")


@dataclass(frozen=True, slots=True)
class DeepLink:
    """`event_12` → kind "event", arg "12"."""

    raw: str
    kind: str
    arg: str


def parse_payload(raw: str | None) -> DeepLink | None:
    """A well-formed payload as a DeepLink, or None (absent, too long, bad characters).

    Payloads with no `kind_` prefix become kind "" so that callers can still report them.
    """
    if not raw:
        return None
    raw = raw.strip()
    if not PAYLOAD_RE.match(raw):
        return None
    match = _KIND_RE.match(raw)
    if match is None:
        return DeepLink(raw=raw, kind="", arg=raw)
    return DeepLink(raw=raw, kind=match.group(1), arg=match.group(2))


def make_link(bot_username: str, payload: str) -> str:
    if not PAYLOAD_RE.match(payload):
        raise ValueError(f"invalid deep-link payload: {payload!r}")
    return f"https://t.me/{bot_username}?start={payload}"
