"""Every setting is listed in `.env.example` and in README's configuration table."""

from __future__ import annotations

import re
from pathlib import Path

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_env_example_and_readme() -> None:
    names = {name.upper() for name in Settings.model_fields}
    example = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    readme = set(re.findall(r"`([A-Z][A-Z_]+)`", (ROOT / "README.md").read_text()))
    assert names - example == set(), "missing from .env.example"
    assert names - readme == set(), "missing from README"
    assert example - names == set(), ".env.example lists settings that do not exist"
