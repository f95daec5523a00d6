"""A throwaway PostgreSQL cluster for tests: started from Debian's binaries, on loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def find_bin_dir() -> Path | None:
    env = os.environ.get("PG_BIN_DIR")
    candidates = (
        [Path(env)] if env else sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    )
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an asyncpg URL of a fresh cluster; stop and remove it afterwards."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="metodbot-pg-"))
    data = root / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    log = root / "server.log"

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off",
            "start",
        )
        run(
            str(bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "metodbot",
        )
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/metodbot"
    finally:
        with contextlib.suppress(Exception):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _client(server_url: str, program: str, *args: str) -> None:
    """Run one of PostgreSQL's client programs (createdb, dropdb) against the server."""
    bin_dir = find_bin_dir()
    assert bin_dir is not None
    hostport = server_url.split("@", 1)[1].split("/", 1)[0]
    host, port = hostport.split(":")
    subprocess.run(
        [str(bin_dir / program), "-h", host, "-p", port, "-U", "postgres", *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


def create_database(server_url: str, name: str) -> str:
    """Create an empty database on the server of `server_url`; return its URL."""
    _client(server_url, "createdb", name)
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def clone_database(server_url: str, template: str, name: str) -> str:
    """Create a database as a copy of `template` (a file copy inside the server: faster than
    running the migrations again); return its URL. Nobody may be connected to `template`."""
    _client(server_url, "createdb", "-T", template, name)
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, name: str) -> None:
    """Drop a test's database (closing what a failed test left connected), so a whole suite
    does not fill the disk with a thousand databases."""
    _client(server_url, "dropdb", "--force", "--if-exists", name)


def suite_check() -> int:
    """`python -m tests.pg`: may the suite run on the postgres backend? 0: yes; 3: no and
    not required (said once, clearly); 2: no, but METODBOT_REQUIRE_POSTGRES/REDIS=1 asks."""
    from tests.redis_server import find_redis

    missing = []
    if find_bin_dir() is None:
        missing.append(("postgresql", "METODBOT_REQUIRE_POSTGRES"))
    if find_redis() is None:
        missing.append(("redis-server", "METODBOT_REQUIRE_REDIS"))
    if not missing:
        return 0
    names = " and ".join(name for name, _ in missing)
    required = [flag for _, flag in missing if os.environ.get(flag) == "1"]
    if required:
        print(f"FAILED: {'=1, '.join(required)}=1 but {names} not found", file=sys.stderr)
        return 2
    print(
        f"SKIPPED the PostgreSQL + Redis pass of the test suite: {names} not found "
        f"(apt-get install {' '.join(name for name, _ in missing)}; "
        "METODBOT_REQUIRE_POSTGRES=1 METODBOT_REQUIRE_REDIS=1 make this a failure)"
    )
    return 3


if __name__ == "__main__":
    sys.exit(suite_check())
