"""`python -m bot copy-db`: move an installation's data to another database (SQLite to
PostgreSQL, the usual case; any supported URL to any other works the same way).

What it guarantees:

* **A consistent snapshot of the source.** A SQLite source is first copied with SQLite's online
  backup API into a temporary file (one step under one read lock: the database as it was at one
  instant, safe while the bot runs and writes in WAL mode); the copy is read from that file and
  the source is never written. A PostgreSQL source is read in one read-only REPEATABLE READ
  transaction. What the bot writes after that instant is not in the copy: stop the bot before
  the final copy (a rehearsal while it runs is fine; then stop, copy again with `--force`,
  switch `DATABASE_URL`, start).
* **The target is migrated to head and must be empty** (no rows in any table of the schema);
  otherwise nothing is changed and the command says which tables hold rows. `--force` empties
  them first (in the same transaction as the copy).
* **Faithful values.** Every table of `db.models` is copied in foreign-key order, in chunks
  (rows are streamed, never all in memory), with their ids; PostgreSQL sequences are moved past
  the copied ids. Values go through the models' column types (UTC datetimes, JSON, booleans,
  dates); a JSON column's SQL NULL stays SQL NULL and a JSON `null` stays JSON `null`.
* **Derived tables are rebuilt, not copied**: `stats_milestones` (the statistics' per-user
  milestones) is filled on the target by its own triggers as the users are copied, every row
  stale; the bot recomputes them on its first scheduler ticks, and `/stats` is exact meanwhile.
* **Verified before commit.** Per table, the rows are counted and hashed (SHA-256 over the
  values in primary-key order, computed the same way on both sides: while reading the source,
  and by reading the target back); the copy commits only if every table matches, otherwise it
  is rolled back and the exit code is 1.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic.util.exc import CommandError
from sqlalchemy import JSON, String, Table, func, inspect, null, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ColumnElement, Select

from db.engine import create_engine
from db.migrate import current_revision, revisions, upgrade
from db.models import Base

DEFAULT_CHUNK = 2000
#: tables the migrations manage themselves (never copied, never checked for emptiness)
_OWN_TABLES = frozenset({"alembic_version"})
#: tables derived from the others and rebuilt on the target by themselves (never copied,
#: never compared): the statistics milestones — the target's triggers (migration 0011) give
#: every copied user a stale row, and the bot's first ticks recompute them
DERIVED_TABLES = frozenset({"stats_milestones"})
_NULL_FLAG = "__sql_null_"


class CopyError(Exception):
    """The copy cannot start or failed: `str()` is one line for the operator."""


@dataclass(slots=True)
class TableCheck:
    name: str
    source_rows: int = 0
    target_rows: int = 0
    source_sum: str = ""
    target_sum: str = ""

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


@dataclass(slots=True)
class CopyReport:
    tables: list[TableCheck]
    #: tables found in the source that the schema does not know (not copied)
    skipped: list[str]
    revision: str | None
    committed: bool = False

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    def render(self) -> str:
        width = max([len("table"), *(len(t.name) for t in self.tables)])
        lines = [f"{'table':<{width}}  {'source':>9}  {'target':>9}  {'checksum':<16}  result"]
        for t in self.tables:
            if t.ok:
                mark, digest = "ok", t.source_sum[:16]
            else:
                mark = "MISMATCH"
                digest = f"{t.source_sum[:7]}/{t.target_sum[:7]}"
            lines.append(
                f"{t.name:<{width}}  {t.source_rows:>9}  {t.target_rows:>9}  {digest:<16}  {mark}"
            )
        total_s = sum(t.source_rows for t in self.tables)
        total_t = sum(t.target_rows for t in self.tables)
        lines.append(f"{'total':<{width}}  {total_s:>9}  {total_t:>9}")
        return "\n".join(lines)


def _tables() -> list[Table]:
    """The schema's tables, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in _OWN_TABLES | DERIVED_TABLES]


def _json_nullable(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, JSON) and c.nullable]


def _select(table: Table, dialect: Dialect) -> Select[Any]:
    """Every column in primary-key order, plus an `IS NULL` flag per nullable JSON column (the
    JSON type reads SQL NULL and JSON `null` both as None)."""
    flags = [table.c[name].is_(None).label(_NULL_FLAG + name) for name in _json_nullable(table)]
    order: list[ColumnElement[Any]] = []
    for col in table.primary_key.columns:
        # byte order on both sides: SQLite compares text with BINARY, PostgreSQL with the
        # database's locale unless told
        if isinstance(col.type, String) and dialect.name == "postgresql":
            order.append(col.collate("C"))
        else:
            order.append(col)
    return select(*table.columns, *flags).order_by(*order)


def _canon(value: Any, is_json: bool) -> str:
    if is_json:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise CopyError(f"a naive datetime was read ({value.isoformat()})")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, int | str | Decimal):
        return str(value)
    raise CopyError(f"unexpected value type {type(value).__name__}")


class _Rows:
    """Turns rows of `_select` into insert parameters and feeds the table's checksum."""

    def __init__(self, table: Table) -> None:
        self.columns = list(table.columns)
        self.keys = [c.key for c in self.columns]
        self.is_json = [isinstance(c.type, JSON) for c in self.columns]
        nullable = set(_json_nullable(table))
        width = len(self.columns)
        # the position of each column's IS NULL flag in the row, if it has one
        flag_at: dict[int, int] = {}
        for i, col in enumerate(self.columns):
            if col.name in nullable:
                flag_at[i] = width + len(flag_at)
        self.flag_at = flag_at
        self.digest = hashlib.sha256()
        self.count = 0

    def feed(self, row: Sequence[Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        parts: list[str | None] = []
        for i, key in enumerate(self.keys):
            value = row[i]
            flag = self.flag_at.get(i)
            if flag is not None and row[flag]:
                params[key] = null()  # SQL NULL, not JSON null
                parts.append(None)
            elif value is None and not self.is_json[i]:
                params[key] = None
                parts.append(None)
            else:
                params[key] = value
                parts.append(_canon(value, self.is_json[i]))
        self.digest.update(json.dumps(parts, ensure_ascii=False).encode())
        self.digest.update(b"\n")
        self.count += 1
        return params


async def _stream(
    conn: AsyncConnection, table: Table, chunk: int
) -> AsyncIterator[Sequence[Sequence[Any]]]:
    stmt = _select(table, conn.dialect).execution_options(yield_per=chunk)
    result = await conn.stream(stmt)
    async for part in result.partitions(chunk):
        yield part


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise CopyError(f"{url}: an in-memory database cannot be copied")
    return Path(parsed.database).expanduser()


def _describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def sqlite_snapshot(source: Path, dest: Path) -> None:
    """Copy a SQLite database at one instant with the online backup API (safe while the bot
    writes: WAL readers do not block the writer)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)  # pages=-1: every page in one step, under one read lock
        finally:
            dst.close()
    finally:
        src.close()


async def _check_revision(engine: AsyncEngine, label: str, *, may_upgrade: bool) -> str:
    known = revisions()
    head = known[-1]
    try:
        revision = await current_revision(engine)
    except (SQLAlchemyError, OSError) as exc:
        raise CopyError(f"{label}: cannot read it ({type(exc).__name__}: {exc})") from None
    if revision is None:
        raise CopyError(f"{label}: not a metodbot database (no migration revision)")
    if revision not in known:
        raise CopyError(
            f"{label}: revision {revision} is unknown to this version of the bot (newer code?)"
        )
    if revision != head:
        if not may_upgrade:
            raise CopyError(
                f"{label}: at revision {revision}, this bot's schema is {head}: "
                "run `python -m bot migrate` on it first"
            )
        await upgrade(engine)  # the snapshot only: the source itself is never written
    return head


async def _non_empty(conn: AsyncConnection) -> list[str]:
    found = []
    for table in _tables():
        if (await conn.execute(select(1).select_from(table).limit(1))).first() is not None:
            found.append(table.name)
    return found


async def _empty_target(conn: AsyncConnection) -> None:
    tables = _tables()
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            await conn.execute(table.delete())


async def _reset_sequences(conn: AsyncConnection) -> None:
    """Move each serial/identity sequence past the copied ids (PostgreSQL; SQLite's rowids
    follow the largest id by themselves)."""
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].autoincrement is False or pk[0].type.python_type is not int:
            continue
        col = pk[0]
        await conn.execute(
            select(
                func.setval(
                    func.pg_get_serial_sequence(table.name, col.name),
                    func.coalesce(select(func.max(col)).scalar_subquery(), 0) + 1,
                    False,
                )
            )
        )


async def _checksum(conn: AsyncConnection, table: Table, chunk: int) -> tuple[int, str]:
    rows = _Rows(table)
    async for part in _stream(conn, table, chunk):
        for row in part:
            rows.feed(row)
    return rows.count, rows.digest.hexdigest()


@contextlib.asynccontextmanager
async def _source_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with conn.begin():
                yield conn
    else:
        async with engine.connect() as conn:
            yield conn


@contextlib.contextmanager
def _snapshot_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="metodbot-copy-") as tmp:
        yield Path(tmp)


async def copy_database(
    source_url: str,
    target_url: str,
    *,
    force: bool = False,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[str], None] | None = None,
) -> CopyReport:
    """Copy every row of the source into the (empty, migrated) target and verify it; see the
    module's docstring for what is guaranteed. Raise `CopyError` when it cannot start."""
    say = progress or (lambda _line: None)
    if make_url(source_url).render_as_string() == make_url(target_url).render_as_string():
        raise CopyError("the source and the target are the same database")
    source_path = _sqlite_path(source_url)
    target_path = _sqlite_path(target_url)
    if source_path is not None and not source_path.is_file():
        raise CopyError(f"{source_path}: no such file")
    if (
        source_path is not None
        and target_path is not None
        and target_path.resolve() == source_path.resolve()
    ):
        raise CopyError("the source and the target are the same database")
    with _snapshot_dir() as tmp:
        read_url = source_url
        if source_path is not None:
            snapshot = tmp / "snapshot.db"
            say(f"snapshot of {source_path} (SQLite backup API)")
            try:
                sqlite_snapshot(source_path, snapshot)
            except sqlite3.Error as exc:
                raise CopyError(f"{source_path}: cannot read it ({exc})") from None
            read_url = f"sqlite+aiosqlite:///{snapshot}"
        source = create_engine(read_url)
        target = create_engine(target_url)
        try:
            return await _copy(
                source, target, force=force, chunk=chunk, say=say, snapshot=source_path is not None
            )
        finally:
            await source.dispose()
            await target.dispose()


async def _copy(
    source: AsyncEngine,
    target: AsyncEngine,
    *,
    force: bool,
    chunk: int,
    say: Callable[[str], None],
    snapshot: bool,
) -> CopyReport:
    head = await _check_revision(source, "the source", may_upgrade=snapshot)
    try:
        await upgrade(target)
    except (SQLAlchemyError, OSError, CommandError) as exc:
        raise CopyError(f"the target: cannot migrate it ({type(exc).__name__}: {exc})") from None
    say(f"target migrated to {head}")
    tables = _tables()
    checks: list[TableCheck] = []
    async with _source_connection(source) as src:
        present = await src.run_sync(lambda c: set(inspect(c).get_table_names()))
        known = {t.name for t in tables} | _OWN_TABLES | DERIVED_TABLES
        skipped = sorted(present - known)
        async with target.connect() as dst:
            await dst.begin()
            busy = await _non_empty(dst)
            if busy and not force:
                await dst.rollback()
                raise CopyError(
                    "the target is not empty (rows in "
                    + ", ".join(busy)
                    + "): give an empty database, or --force to delete its rows first"
                )
            if busy:
                say(f"--force: emptying {len(busy)} table(s) of the target")
                await _empty_target(dst)
            current = "?"
            try:
                for table in tables:
                    current = table.name
                    rows = _Rows(table)
                    async for part in _stream(src, table, chunk):
                        batch = [rows.feed(row) for row in part]
                        await dst.execute(table.insert(), batch)
                    check = TableCheck(table.name, rows.count, source_sum=rows.digest.hexdigest())
                    checks.append(check)
                    say(f"{table.name}: {rows.count} row(s)")
                current = "(sequences)"
                await _reset_sequences(dst)
                for check in checks:
                    check.target_rows, check.target_sum = await _checksum(
                        dst, Base.metadata.tables[check.name], chunk
                    )
            except DBAPIError as exc:
                await dst.rollback()
                raise CopyError(
                    f"copying failed at table {current}: {type(exc.orig).__name__}: "
                    f"{str(exc.orig).splitlines()[0] if exc.orig else exc}"
                ) from None
            result = CopyReport(checks, skipped, head)
            if result.ok:
                await dst.commit()
                result.committed = True
            else:
                await dst.rollback()
            return result
