"""The navigation every wizard step carries; a feature's callback data packs these values."""

from __future__ import annotations

from enum import StrEnum


class WizardNav(StrEnum):
    BACK = "back"
    KEEP = "keep"
    CANCEL = "cancel"
