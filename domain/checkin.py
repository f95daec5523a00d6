"""One-time check-in codes for attendance at an event, and their deep-link payloads.

A code is drawn from an alphabet without look-alikes (no 0/O, 1/I/L). What a teacher types
is normalized: case, spaces and dashes do not matter, and Cyrillic letters that look like
Latin ones (a Russian keyboard layout) are read as the Latin letter.
"""

from __future__ import annotations

import hmac
import random
import re
import secrets

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MIN_LENGTH = 4
MAX_LENGTH = 12
#: event ids are database keys (BIGINT), so at most 18 digits
MAX_EVENT_ID = 10**18 - 1
PAYLOAD_PREFIX = "checkin_"

_ALPHABET_SET = frozenset(CODE_ALPHABET)
#: upper-case Cyrillic letters that look like letters of the code alphabet
_LOOKALIKES = str.maketrans("АВЕКМНРСТУХ", "ABEKMHPCTYX")
_DROP_RE = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_PAYLOAD_RE = re.compile(r"^checkin_([1-9][0-9]{0,17})-([A-Za-z0-9]{4,12})$")


def new_code(length: int = 6, *, rng: random.Random | secrets.SystemRandom | None = None) -> str:
    """A random code of `length` characters (4..12); `secrets` unless an rng is given."""
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValueError(f"code length must be {MIN_LENGTH}..{MAX_LENGTH}, not {length}")
    choice = rng.choice if rng is not None else secrets.choice
    return "".join(choice(CODE_ALPHABET) for _ in range(length))


def normalize(text: str) -> str | None:
    """A typed code in canonical form (" k7m-2qx " → "K7M2QX"), or None if it cannot be one.

    Upper-cases, drops whitespace and dashes, reads Cyrillic look-alikes as Latin letters;
    then every character must be in CODE_ALPHABET and the length 4..12. The excluded
    characters (0, O, 1, I, L) are refused rather than guessed.
    """
    code = _DROP_RE.sub("", text).upper().translate(_LOOKALIKES)
    if not MIN_LENGTH <= len(code) <= MAX_LENGTH:
        return None
    if not all(char in _ALPHABET_SET for char in code):
        return None
    return code


def checkin_payload(event_id: int, code: str) -> str:
    """The `/start` payload for a check-in link: checkin_12-K7M2QX.

    Matches ^[A-Za-z0-9_-]{1,64}$ (at most 8 + 18 + 1 + 12 = 39 characters).
    """
    if isinstance(event_id, bool) or not 1 <= event_id <= MAX_EVENT_ID:
        raise ValueError(f"event_id must be 1..{MAX_EVENT_ID}, not {event_id!r}")
    canonical = normalize(code)
    if canonical is None:
        raise ValueError(f"not a check-in code: {code!r}")
    return f"{PAYLOAD_PREFIX}{event_id}-{canonical}"


def parse_checkin_payload(payload: str) -> tuple[int, str] | None:
    """(event_id, canonical code) from a payload made by `checkin_payload`, or None."""
    match = _PAYLOAD_RE.match(payload)
    if match is None:
        return None
    code = normalize(match.group(2))
    if code is None:
        return None
    return int(match.group(1)), code


def codes_match(expected: str, given: str) -> bool:
    """Whether a typed code is the expected one; constant-time on the normalized codes."""
    want = normalize(expected)
    got = normalize(given)
    if want is None or got is None:
        return False
    return hmac.compare_digest(want.encode("ascii"), got.encode("ascii"))
