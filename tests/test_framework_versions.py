"""Replacing the framework: a new version becomes active, old results keep theirs; the CLI
reports bad files in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import FRAMEWORK_FILE, import_framework
from core.clock import utcnow
from db.repo import Repo
from domain.assessment import score

ROOT = Path(__file__).resolve().parents[1]


def _shipped() -> dict[str, object]:
    doc = yaml.safe_load(FRAMEWORK_FILE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


async def test_new_version_is_active_and_old_results_stay_readable(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sessionmaker() as session:
        repo = Repo(session)
        first, added = await import_framework(repo, FRAMEWORK_FILE)
        assert added and (await repo.frameworks.active()) == first
        user, _ = await repo.users.get_or_create(1, "ru")
        now = utcnow()
        attempt = await repo.assessments.start(user.id, first.version, False, now)
        answers = {s.code: 2 for s in first.statements(is_manager=False)}
        await repo.assessments.finish(
            attempt, score(first, answers, is_manager=False).to_json(), now
        )
        await session.commit()

    doc = _shipped()
    doc["version"] = "2099.1"
    doc["competencies"][0]["title"]["en"] = "Subject methods, revised"  # type: ignore[index]
    path = tmp_path / "framework.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    async with sessionmaker() as session:
        repo = Repo(session)
        second, added = await import_framework(repo, path)
        _, again = await import_framework(repo, path)
        await session.commit()
        assert added and not again
        assert (await repo.frameworks.active()) == second
        old = await repo.frameworks.get(first.version)
        assert old is not None and old.competencies[0].title.en != "Subject methods, revised"
        finished = await repo.assessments.finished(user.id)
        assert finished[0].framework_version == first.version


def _cli(tmp_path: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "LOG_LEVEL": "ERROR",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_import_framework(tmp_path: Path, db_url: str) -> None:
    doc = _shipped()
    doc["version"] = "2099.2"
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    first = _cli(tmp_path, db_url, "import-framework", str(good))
    assert first.returncode == 0 and "2099.2 imported and active" in first.stdout
    again = _cli(tmp_path, db_url, "import-framework", str(good))
    assert again.returncode == 0 and "already imported" in again.stdout

    doc["version"] = "2099.3"
    doc["competencies"][2]["statements"] = []  # type: ignore[index]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    broken = _cli(tmp_path, db_url, "import-framework", str(bad))
    assert broken.returncode == 2
    assert broken.stderr.strip().splitlines() == [
        f"metodbot: {bad}: competencies[2].statements: a non-empty list is required"
    ]
    missing = _cli(tmp_path, db_url, "import-framework", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
