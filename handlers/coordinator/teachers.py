"""/teachers: the teachers in the staff member's scope with their self-assessment and route marks."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.roles import Role
from handlers.coordinator.common import _scope
from ui.formatting import h, split_html


async def cmd_teachers(message: Message, repo: Repo, staff: User, role: Role) -> None:
    teachers = await repo.users.teachers_of(await _scope(repo, staff, role))
    if not teachers:
        await message.answer(_("No registered teachers yet."))
        return
    ids = [t.id for t in teachers]
    diagnosed = await repo.assessments.diagnosed(ids)
    progress = await repo.routes.progress_of(ids)
    lines = [
        _("👩‍🏫 <b>Teachers</b> ({n}) · 📝 self-assessment · 🧭 route · 🤝 ready to mentor").format(
            n=len(teachers)
        )
    ]
    for t in teachers:
        marks = []
        if t.id in diagnosed:
            marks.append("📝")
        if t.id in progress:
            closed, total = progress[t.id]
            marks.append(f"🧭 {closed}/{total}")
        if t.mentor_volunteer:
            marks.append("🤝")
        lines.append(f"<code>{t.telegram_id}</code> {h(t.full_name or '—')} {' '.join(marks)}")
    lines.append(_("Details: /teacher &lt;telegram id&gt;"))
    for chunk in split_html(lines):
        await message.answer(chunk)
