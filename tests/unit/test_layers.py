"""The layers stay apart: the domain and the use cases speak no Telegram and know no handlers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["domain", "services"])
def test_no_telegram_and_no_handlers_below_the_handlers(package: str) -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in {"aiogram", "handlers", "bot"}
    }
    assert offenders == set()


def test_the_database_layer_knows_only_the_domain() -> None:
    """`db/` is models, migrations and queries: no Telegram, no handlers, no use cases above it."""
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "db").rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in {"aiogram", "handlers", "bot", "services", "scheduler"}
    }
    assert offenders == set()


#: a repository module a newcomer can read in one sitting (issue #8: repositories/<area>.py)
REPOSITORY_LINES = 400


def test_queries_live_in_one_small_module_per_area() -> None:
    """The facade (`db/repo.py`) and each `db/repositories/<area>.py` stay under the limit,
    and the old catch-all `db/event_repo.py` is gone."""
    modules = [ROOT / "db" / "repo.py", *sorted((ROOT / "db" / "repositories").glob("*.py"))]
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > REPOSITORY_LINES
    }
    assert too_long == {}
    assert len(modules) > 5
    assert not (ROOT / "db" / "event_repo.py").exists()
