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


def test_the_ui_knows_no_handlers() -> None:
    """Callback data, keyboards, formatting and files are usable without the handlers (the
    scheduler and the outbox render notices with them)."""
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "ui").rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in {"handlers", "bot", "scheduler"}
    }
    assert offenders == set()


def test_callback_data_is_declared_only_in_ui() -> None:
    """Every `CallbackData` class lives in `ui/callbacks/<feature>.py`."""
    offenders = set()
    for package in ("bot", "handlers", "scheduler", "services", "domain", "db"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and base.id == "CallbackData" for base in node.bases
                ):
                    offenders.add(f"{path.relative_to(ROOT)}: {node.name}")
    assert offenders == set()
