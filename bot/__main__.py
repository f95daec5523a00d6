"""Command line: `python -m bot [run|migrate|console|import-reference|grant|copy-db]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.logs import install_redaction, setup_logging
from core.settings import RunMode, Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metodbot", description="Methodological support of teachers in Telegram."
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "run",
        help="run the bot (default): polling or webhook, per RUN_MODE; "
        "WEBHOOK_WORKERS>1 starts that many webhook workers on one port",
    )
    sub.add_parser("migrate", help="apply database migrations and exit")
    console = sub.add_parser(
        "console", help="chat with the bot in this terminal: no token, no internet needed"
    )
    console.add_argument(
        "--role",
        choices=["teacher", "coordinator", "admin"],
        default="teacher",
        help="act as this role (default: teacher)",
    )
    console.add_argument("--lang", choices=["ru", "en"], default="ru", help="your client language")
    console.add_argument(
        "--db",
        default="sqlite+aiosqlite:///data/console.db",
        help="database for the console session (default: data/console.db)",
    )
    console.add_argument(
        "--sample-events",
        action="store_true",
        help="import the sample internship sites and events into that database "
        "(unless they are there already)",
    )
    imp = sub.add_parser("import-reference", help="import municipalities, schools, subjects")
    imp.add_argument("file", type=Path, help="YAML file in the format of db/reference/sample.yaml")
    fw = sub.add_parser("import-framework", help="import a competency framework (new version)")
    fw.add_argument("file", type=Path, help="YAML in the format of domain/content/framework.yaml")
    act = sub.add_parser("import-events", help="import internship sites or events (CSV/XLSX)")
    act.add_argument("file", type=Path, help="a file made from the template (/template in the bot)")
    act.add_argument(
        "--municipality", default=None, help="restrict to this municipality code (default: any)"
    )
    grant = sub.add_parser("grant", help="grant a role to a user who has sent /start")
    grant.add_argument("telegram_id", type=int)
    grant.add_argument("role", choices=["teacher", "school_methodist", "coordinator", "admin"])
    grant.add_argument(
        "scope",
        nargs="*",
        help="a coordinator: municipality codes or `region`; a school methodist: a school id or code",
    )
    copy = sub.add_parser(
        "copy-db",
        help="copy every row to another database (SQLite -> PostgreSQL) and verify it",
        description="Copy a consistent snapshot of the source (SQLite: the online backup API, "
        "safe while the bot runs; what it writes afterwards is not copied: stop the bot for "
        "the final copy) into a target migrated to the latest schema, which must be empty; "
        "verify row counts and a checksum per table before committing.",
    )
    copy.add_argument(
        "--from",
        dest="source",
        default=None,
        help="source database URL (default: DATABASE_URL)",
    )
    copy.add_argument(
        "--to", dest="target", required=True, help="target URL, e.g. postgresql+asyncpg://…"
    )
    copy.add_argument(
        "--force", action="store_true", help="delete the target's rows first if it has any"
    )
    copy.add_argument(
        "--chunk", type=int, default=2000, help="rows per read and insert (default: 2000)"
    )
    return parser


def _fail(message: str) -> int:
    print(f"metodbot: {message}", file=sys.stderr)
    return 2


def settle_heap() -> None:
    """Once the process has imported and built everything it keeps for life: collect, then
    move what survives out of the collector's view (`gc.freeze`). The bot allocates heavily
    per update (ORM rows, pydantic models); every full collection would otherwise walk the
    ~270,000 long-lived objects of the imports and the dispatcher again (bench/mix.py does
    the same before it measures)."""
    import gc

    gc.collect()
    gc.freeze()


async def _run(settings: Settings) -> int:
    from bot.app import BotApp
    from bot.workers import worker_from_env

    worker = worker_from_env()  # a webhook worker started by `bot.workers` (its socket)
    if worker is not None:  # which worker said what
        fmt = f"%(asctime)s %(levelname)s [worker {worker[0]}] %(name)s: %(message)s"
        for handler in logging.getLogger().handlers:
            handler.setFormatter(logging.Formatter(fmt))
    app = BotApp(settings, worker=worker[0] if worker else None)
    await app.setup()
    settle_heap()
    if settings.run_mode is RunMode.WEBHOOK:
        await app.run_webhook(worker[1] if worker else None, handle_signals=True)
    else:
        await app.run_polling()
    return 0


def _run_command(settings: Settings) -> int:
    """`run`: one process, or with WEBHOOK_WORKERS > 1 the parent of the webhook workers."""
    import os

    from bot.workers import LISTEN_FD_ENV, serve

    if settings.webhook_workers > 1 and not os.environ.get(LISTEN_FD_ENV):
        return serve(settings)
    return asyncio.run(_run(settings))


async def _migrate(settings: Settings) -> int:
    from bot.app import prepare_database
    from db.migrate import current_revision

    engine, _ = await prepare_database(settings)
    print(f"database at revision {await current_revision(engine)}")
    await engine.dispose()
    return 0


async def _import(settings: Settings, path: Path) -> int:
    import yaml

    from bot.app import import_reference, prepare_database
    from db.repo import Repo
    from domain.reference import ReferenceError

    engine, sessionmaker = await prepare_database(settings)
    try:
        async with sessionmaker() as session:
            report = await import_reference(Repo(session), path)
            await session.commit()
    except (ReferenceError, yaml.YAMLError) as exc:
        return _fail(f"{path}: {exc}")
    finally:
        await engine.dispose()
    print(f"created: {report.created or 'nothing'}; updated: {report.updated or 'nothing'}")
    return 0


async def _import_framework(settings: Settings, path: Path) -> int:
    import yaml

    from bot.app import import_framework, prepare_database
    from db.repo import Repo
    from domain.framework import FrameworkError

    engine, sessionmaker = await prepare_database(settings)
    try:
        async with sessionmaker() as session:
            framework, added = await import_framework(Repo(session), path)
            await session.commit()
    except (FrameworkError, yaml.YAMLError) as exc:
        return _fail(f"{path}: {exc}")
    finally:
        await engine.dispose()
    if not added:
        print(
            f"framework {framework.version} is already imported: change `version` to publish edits"
        )
        return 0
    print(
        f"framework {framework.version} imported and active: {len(framework.competencies)} competencies"
    )
    return 0


async def _import_events(
    settings: Settings, path: Path, data: bytes, municipalities: frozenset[str] | None
) -> int:
    from bot.app import prepare_database
    from bot.imports import ImportFormatError, import_file
    from core.clock import SystemClock
    from db.repo import Repo

    engine, sessionmaker = await prepare_database(settings)
    try:
        async with sessionmaker() as session:
            outcome = await import_file(
                Repo(session),
                data,
                path.name,
                allowed_municipalities=municipalities,
                actor=None,
                tz=settings.tz,
                now=SystemClock().now(),
            )
            await session.commit()
    except ImportFormatError as exc:
        return _fail(f"{path}: {exc}")
    finally:
        await engine.dispose()
    for r in outcome.reports:
        print(f"row {r.row}\t{r.key}\t{r.action}\t{'; '.join(map(str, r.errors))}")
    if not outcome.ok:
        return _fail(
            f"{path}: nothing imported, {outcome.rejected} row(s) with mistakes (listed above)"
        )
    print(f"{outcome.kind}: {outcome.created} created, {outcome.updated} updated")
    return 0


_CLI_SCOPE_PROBLEMS = {
    "need_municipalities": "a coordinator needs municipality codes (or `region`)",
    "unknown_municipality": "unknown municipality code",
    "need_school": "a school methodist needs one school: its id or code",
    "unknown_school": "unknown school",
    "no_scope": "only a coordinator or a school methodist is given a scope",
}


async def _grant(
    settings: Settings, telegram_id: int, role_name: str, scope_words: list[str]
) -> int:
    from bot.app import prepare_database
    from core.clock import SystemClock
    from db.repo import Repo
    from domain.roles import Role
    from services import staff

    engine, sessionmaker = await prepare_database(settings)
    try:
        async with sessionmaker() as session:
            repo = Repo(session)
            user = await repo.users.by_telegram_id(telegram_id)
            if user is None:
                return _fail(f"no user with Telegram id {telegram_id}: they must send /start first")
            grant = await staff.resolve_grant(repo, Role(role_name), scope_words)
            if isinstance(grant, staff.ScopeProblem):
                return _fail(_CLI_SCOPE_PROBLEMS[grant])
            await staff.set_role(repo, user, grant, SystemClock().now(), via="cli")
            await session.commit()
    finally:
        await engine.dispose()
    print(
        f"{telegram_id} is now {role_name}: they are told when the bot runs; "
        "their command menu updates when the bot restarts"
    )
    return 0


async def _copy_db(source: str, target: str, *, force: bool, chunk: int) -> int:
    from bot.copydb import CopyError, copy_database

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        report = await copy_database(source, target, force=force, chunk=chunk, progress=say)
    except CopyError as exc:
        return _fail(f"copy-db: {exc}")
    print(report.render())
    for name in report.skipped:
        print(f"not copied (unknown to this schema): {name}")
    if not report.ok:
        print("metodbot: copy-db: the copy does not match the source: rolled back", file=sys.stderr)
        return 1
    print(f"copied and verified, schema {report.revision}: set DATABASE_URL to the target")
    return 0


def _check_url(flag: str, url: str) -> str | None:
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return f"{flag}: must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
    return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    overrides: dict[str, object] = {}
    if command == "console":
        overrides = {"database_url": args.db}
    try:
        settings = load_settings(**overrides)
    except SettingsError as exc:
        return _fail(str(exc))
    if command == "run" and settings.bot_token is None:  # before anything starts or logs
        return _fail(
            "BOT_TOKEN: is required to run the bot (get one from @BotFather); "
            "`python -m bot console` works without one"
        )
    if command == "console":  # the console's terminal is the chat: it logs to data/console.log
        install_redaction(settings.bot_token, settings.webhook_secret)
    else:
        setup_logging(settings.log_level, secrets=(settings.bot_token, settings.webhook_secret))
    try:
        if command == "run":
            return _run_command(settings)
        if command == "migrate":
            return asyncio.run(_migrate(settings))
        if command == "import-reference":
            if not args.file.is_file():
                return _fail(f"{args.file}: no such file")
            return asyncio.run(_import(settings, args.file))
        if command == "import-framework":
            if not args.file.is_file():
                return _fail(f"{args.file}: no such file")
            return asyncio.run(_import_framework(settings, args.file))
        if command == "import-events":
            if not args.file.is_file():
                return _fail(f"{args.file}: no such file")
            data = args.file.read_bytes()
            municipalities = frozenset({args.municipality}) if args.municipality else None
            return asyncio.run(_import_events(settings, args.file, data, municipalities))
        if command == "grant":
            return asyncio.run(_grant(settings, args.telegram_id, args.role, args.scope))
        if command == "copy-db":
            source = args.source or settings.database_url
            problem = _check_url("--from", source) or _check_url("--to", args.target)
            if problem:
                return _fail(problem)
            if args.chunk < 1:
                return _fail("--chunk: must be a positive number")
            return asyncio.run(_copy_db(source, args.target, force=args.force, chunk=args.chunk))
        from devtools.console import run_console

        return asyncio.run(
            run_console(settings, role=args.role, lang=args.lang, sample_events=args.sample_events)
        )
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
