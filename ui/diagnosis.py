"""The latest external diagnosis as one line beside the self-assessment results (the
teacher's /results and the methodist's /teacher view)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from db.models import ExternalDiagnosis
from domain.framework import Framework
from ui.formatting import h


def diagnosis_text(diagnosis: ExternalDiagnosis, framework: Framework | None, lang: str) -> str:
    """«🩺 Диагностика ЦНППМ от 12.10.2026: дефициты — …» (HTML; the source is escaped)."""
    titles = {c.code: c.title.text(lang) for c in framework.competencies} if framework else {}
    head = _("🩺 <b>Diagnosis by {source}</b> of {date}").format(
        source=h(diagnosis.source), date=diagnosis.diagnosed_on.strftime("%d.%m.%Y")
    )
    if not diagnosis.deficits:
        return head + ": " + _("no deficits")
    names = ", ".join(h(titles.get(code, code)) for code in diagnosis.deficits)
    return head + ": " + _("deficits — {names}").format(names=names)
