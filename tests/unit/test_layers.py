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


@pytest.mark.parametrize(
    "package", ["core", "domain", "services", "outbox", "db", "scheduler", "ui"]
)
def test_nothing_below_the_handlers_imports_them(package: str) -> None:
    """The handlers are the top layer: the packages under them never import `handlers`
    (a lazy import inside a function counts too)."""
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] == "handlers"
    }
    assert offenders == set()


def test_the_ui_knows_no_handlers() -> None:
    """Callback data, keyboards, formatting and files are usable without the handlers (the
    scheduler and the outbox render notices with them) and know nothing above them."""
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "ui").rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in {"handlers", "bot", "scheduler", "outbox", "services"}
    }
    assert offenders == set()


def test_callback_data_is_declared_only_in_ui() -> None:
    """Every `CallbackData` class lives in `ui/callbacks/<feature>.py`."""
    offenders = set()
    for package in ("bot", "core", "handlers", "scheduler", "services", "outbox", "domain", "db"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and base.id == "CallbackData" for base in node.bases
                ):
                    offenders.add(f"{path.relative_to(ROOT)}: {node.name}")
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


# ------------------------------------------------------------------ one clock

#: the packages that get the bot's one clock (`core.clock.Clock`, the `clock` handler argument).
#: The repositories take `now` from their callers too; `db/types.py` and `db/models.py` stay
#: out: `db.types.utcnow` is the column default for rows whose time nobody passed.
CLOCK_USERS = [
    "bot",
    "core",
    "handlers",
    "services",
    "domain",
    "scheduler",
    "outbox",
    "ui",
    "db/repo.py",
    "db/repositories",
    "devtools/console.py",
]
#: where reading the wall clock is the point, and why
WALL_CLOCK_ALLOWED = {
    "core/clock.py": "the clock itself",
    "scheduler/__init__.py": "APScheduler's own timer (first run of the tick) is wall time",
}


def _sources(*names: str) -> list[Path]:
    paths: list[Path] = []
    for name in names:
        target = ROOT / name
        paths += [target] if target.is_file() else sorted(target.rglob("*.py"))
    return paths


def _wall_clock_reads(path: Path, root: Path = ROOT) -> list[str]:
    """`datetime.now()`, `datetime.utcnow()`, `date.today()`, `time.time()` calls and imports
    of a `utcnow` function: every way a module can ask the wall clock for the time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(root)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr)
            in {
                ("datetime", "now"),
                ("datetime", "utcnow"),
                ("datetime", "today"),
                ("date", "today"),
                ("time", "time"),
            }
        ):
            found.append(f"{where}:{node.lineno}: {node.func.value.id}.{node.func.attr}()")
        elif isinstance(node, ast.ImportFrom) and any(a.name == "utcnow" for a in node.names):
            found.append(f"{where}:{node.lineno}: utcnow from {node.module}")
    return found


def test_one_clock_nobody_reads_the_wall_clock_on_their_own() -> None:
    """Handlers take `clock: Clock` and pass `clock.now()` on; use cases and rules take `now`.
    A module that reads the time itself does not move when a test moves the bot's clock."""
    offenders = [
        read
        for path in _sources(*CLOCK_USERS)
        if path.relative_to(ROOT).as_posix() not in WALL_CLOCK_ALLOWED
        for read in _wall_clock_reads(path)
    ]
    assert offenders == []


def test_one_clock_the_scan_sees_every_way_of_reading_the_time(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from datetime import date, datetime\nimport time\nfrom db.types import utcnow\n"
        "a = datetime.now()\nb = date.today()\nc = time.time()\nd = datetime.utcnow()\n",
        encoding="utf-8",
    )
    reads = {read.split(": ", 1)[1] for read in _wall_clock_reads(probe, tmp_path)}
    assert reads == {
        "utcnow from db.types",
        "datetime.now()",
        "date.today()",
        "time.time()",
        "datetime.utcnow()",
    }


#: a screen a newcomer can read in one sitting (issue #8: handlers parse, call, render)
HANDLER_LINES = 400


def test_no_handler_module_is_over_the_limit() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "handlers").rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > HANDLER_LINES
    }
    assert too_long == {}
