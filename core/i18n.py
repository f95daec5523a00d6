"""gettext catalogs compiled from `locales/*/LC_MESSAGES/messages.po` in memory at start-up.

`.po` files are the only source of truth (nothing compiled is committed or hand-edited);
`pybabel extract` refreshes `locales/messages.pot` (see README).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.settings import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def compile_catalog(po_path: Path, locale: str) -> gettext.GNUTranslations:
    """Compile one `.po` file to a GNUTranslations object, without touching the disk."""
    with po_path.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class CatalogI18n(I18n):
    """aiogram's I18n that compiles `.po` catalogs on load instead of reading `.mo` files."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for locale in SUPPORTED_LOCALES:
            po_path = self.path / locale / "LC_MESSAGES" / f"{self.domain}.po"
            if not po_path.exists():
                raise RuntimeError(f"missing translation catalog {po_path}")
            translations[locale] = compile_catalog(po_path, locale)
        return translations

    @contextmanager
    def context(self) -> Generator[I18n, None, None]:
        # aiogram's gettext helpers look the instance up in I18n's own context variable;
        # a subclass would otherwise set a separate one of its own
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def client_locale(user: User | None, default: str) -> str:
    """The locale for a Telegram user with no stored choice: English clients get English."""
    code = (user.language_code or "") if user else ""
    if code.lower().startswith("en"):
        return "en"
    if code.lower().startswith("ru"):
        return "ru"
    return default


class UserI18nMiddleware(I18nMiddleware):
    """The stored language of the user decides; else the Telegram client language."""

    def __init__(self, i18n: I18n, default_locale: str) -> None:
        super().__init__(i18n)
        self.default_locale = default_locale

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        ctx = data.get("user")
        if ctx is not None:
            return str(ctx.language)
        return client_locale(data.get("event_from_user"), self.default_locale)
