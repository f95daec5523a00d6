"""Catalogs: every user-facing string is translated, Russian plurals are right, and every
translation is valid Telegram HTML with the same placeholders as its source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from core.i18n import CatalogI18n
from devtools.emulator import parse_formatted

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "__": None, "lazy_gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TAG = re.compile(r"</?([a-z-]+)")


def _babel_mapping() -> list[tuple[str, str]]:
    with (ROOT / "babel.cfg").open() as fp:
        method_map, _options = parse_mapping_cfg(fp)  # type: ignore[no-untyped-call]
    return [(str(pattern), str(method)) for pattern, method in method_map]


def _source_messages() -> set[str]:
    """Every string the extraction configured in babel.cfg finds (the same set as pybabel)."""
    found: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        ROOT, method_map=_babel_mapping(), keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


GETTEXT_CALL = re.compile(r"(?<![\w.])(?:_|__|gettext|ngettext|lazy_gettext)\(")


def test_every_package_with_gettext_calls_is_extracted() -> None:
    """A package that calls gettext but is missing from babel.cfg sends English to everyone."""
    covered = {pattern.split("/", 1)[0] for pattern, _method in _babel_mapping()}
    assert {"bot", "handlers", "outbox", "domain", "db"} <= covered
    calling: set[str] = set()
    for path in ROOT.glob("*/**/*.py"):
        package = path.relative_to(ROOT).parts[0]
        if package.startswith((".", "_")) or package in {"tests", "data"}:
            continue
        if GETTEXT_CALL.search(path.read_text(encoding="utf-8")):
            calling.add(package)
    assert "outbox" in calling
    assert calling - covered == set(), f"add these packages to babel.cfg: {calling - covered}"


def _catalog(locale: str) -> Catalog:
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp, locale=locale)


def test_every_source_string_has_a_russian_translation() -> None:
    catalog = _catalog("ru")
    source = _source_messages()
    assert len(source) > 100
    missing = sorted(m for m in source if m not in catalog or not catalog[m].string)
    assert missing == [], f"untranslated (run pybabel extract/update, see README): {missing}"
    plural_gaps = [m.id for m in catalog if isinstance(m.string, tuple) and not all(m.string)]
    assert plural_gaps == []
    assert not [m.id for m in catalog if m.id and m.fuzzy]


def test_catalogs_have_no_stale_entries() -> None:
    source = _source_messages()
    for locale in ("ru", "en"):
        stale = [
            m.id
            for m in _catalog(locale)
            if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in source
        ]
        assert stale == [], f"{locale}: strings no longer in the code: {stale}"


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_translations_keep_placeholders_and_are_valid_html(locale: str) -> None:
    for message in _catalog(locale):
        if not message.id:
            continue
        ids = [str(i) for i in (message.id if isinstance(message.id, tuple) else (message.id,))]
        strings = [
            str(s)
            for s in (message.string if isinstance(message.string, tuple) else (message.string,))
        ]
        expected = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            if not text:
                continue
            assert set(PLACEHOLDER.findall(text)) == expected, (message.id, text)
            assert sorted(TAG.findall(text)) == sorted(TAG.findall(ids[0])), (message.id, text)
            rendered = PLACEHOLDER.sub("x", text)
            assert parse_formatted(rendered, "HTML").ok, (message.id, text)


@pytest.mark.parametrize(
    ("n", "word"),
    [
        (1, "год"),
        (2, "года"),
        (4, "года"),
        (5, "лет"),
        (11, "лет"),
        (21, "год"),
        (22, "года"),
        (0, "лет"),
    ],
)
def test_russian_plural_forms(n: int, word: str) -> None:
    i18n = CatalogI18n(path=ROOT / "locales", default_locale="ru")
    assert i18n.gettext("{n} year", "{n} years", n, locale="ru").format(n=n) == f"{n} {word}"
    assert (
        i18n.gettext("{n} year", "{n} years", n, locale="en")
        .format(n=n)
        .endswith("year" if n == 1 else "years")
    )
