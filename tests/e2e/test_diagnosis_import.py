"""A Russian coordinator imports an external diagnosis (ЦНППМ) from the template by sending the
file; the unmatched rows come back as a file; the teacher then sees the diagnosis on /results
and the coordinator on /teacher; a teacher sending the same file imports nothing."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from db.models import ExternalDiagnosis
from db.repo import Repo
from domain.roles import Role
from tests.e2e.conftest import Running
from tests.e2e.flows import register
from tests.staffing import make_staff


async def _count(running: Running) -> int:
    async with running.app.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(ExternalDiagnosis)) or 0)


async def test_a_coordinator_imports_a_diagnosis_the_teacher_sees(running: Running) -> None:
    emu = running.emu
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        muni = (await repo.reference.municipalities())[0]
        school, other_school = (await repo.reference.schools(muni.id))[:2]
    teacher = running.chat(8101)
    await register(teacher, emu, municipality_id=muni.id, school_id=school.id)
    methodist = running.chat(8100, first_name="Ольга")
    await register(methodist, emu, municipality_id=muni.id, school_id=other_school.id)

    # before the role, her file is not an import
    await methodist.send("/diagnosis_template")
    assert not any(m.document for m in emu.chat(8100))
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        row = await repo.users.by_telegram_id(8100)
        assert row is not None
        await make_staff(repo, row, Role.COORDINATOR, row.municipality_id)
        await session.commit()
    running.app.dp["user_cache"].invalidate(8100)

    await methodist.send("/diagnosis_template")
    files = {m.document[0]: m.document[1] for m in emu.chat(8100) if m.document}
    assert {
        "diagnosis-scores.xlsx",
        "diagnosis-scores.csv",
        "diagnosis-deficits.xlsx",
        "diagnosis-deficits.csv",
    } <= set(files)
    assert "Импорт диагностики" in methodist.last.plain_text

    # the deficit form filled in Russian: the teacher by name and the school's short name,
    # and a row for someone not registered
    header, _example = list(
        csv.reader(io.StringIO(files["diagnosis-deficits.csv"].decode("utf-8-sig")), delimiter=";")
    )
    assert header == ["ID педагога", "ФИО", "Школа", "Дата", "Источник", "Дефициты"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(header)
    writer.writerow(["", "иванова анна петровна", school.short_name, "12.10.2026", "", "Цифровая"])
    writer.writerow(["", "Никто Никтович", school.name, "12.10.2026", "", "=HYPERLINK(1)"])
    data = ("\ufeff" + out.getvalue()).encode("utf-8")

    # a teacher's file imports nothing
    await teacher.run(lambda: emu.send_document(teacher.user, "diagnosis.csv", data))
    assert await _count(running) == 0

    await methodist.run(lambda: emu.send_document(methodist.user, "diagnosis.csv", data))
    report = next(
        m.plain_text for m in reversed(emu.chat(8100)) if "Импорт диагностики" in m.plain_text
    )
    assert "добавлено 1, обновлено 0" in report
    assert "1 строка не импортирована" in report and "строка 3" in report
    assert "Никто Никтович" in report
    unmatched = methodist.last.document
    assert unmatched is not None and unmatched[0] == "diagnosis-unmatched.csv"
    rows = list(csv.reader(io.StringIO(unmatched[1].decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "строка" and rows[0][-1] == "причина"
    assert rows[1][0] == "3" and rows[1][2] == "Никто Никтович"
    assert rows[1][6] == "'=HYPERLINK(1)"  # neutralised: no formula in the methodist's Excel
    assert await _count(running) == 1

    # the same file again: updated, not added
    await methodist.run(lambda: emu.send_document(methodist.user, "diagnosis.csv", data))
    assert await _count(running) == 1
    assert any("добавлено 0, обновлено 1" in m.plain_text for m in emu.chat(8100))

    # the score form (XLSX) sent back unchanged: its example row is nobody
    await methodist.run(
        lambda: emu.send_document(
            methodist.user, "diagnosis-scores.xlsx", files["diagnosis-scores.xlsx"]
        )
    )
    report = next(
        m.plain_text for m in reversed(emu.chat(8100)) if "Импорт диагностики" in m.plain_text
    )
    assert "добавлено 0, обновлено 0" in report
    assert "нет зарегистрированного педагога Образцова Мария Ивановна (пример)" in report
    assert await _count(running) == 1

    expected = "Диагностика ЦНППМ от 12.10.2026: дефициты — Цифровая (ИКТ-компетентность)"
    await teacher.send("/results")
    assert expected in teacher.last.plain_text
    await methodist.send("/teacher 8101")
    assert any(expected in m.plain_text for m in emu.chat(8100)[-3:])
