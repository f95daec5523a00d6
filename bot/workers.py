"""`RUN_MODE=webhook` with `WEBHOOK_WORKERS=N`: N worker processes behind one port.

The parent migrates the database once, binds WEBHOOK_HOST:WEBHOOK_PORT once and starts N
copies of `python -m bot run` that inherit the listening socket (its file descriptor number is
in METODBOT_LISTEN_FD, the worker's number in METODBOT_WORKER). The kernel hands each new
connection to whichever worker accepts it first: an idle worker takes more, a busy one fewer.

Why an inherited socket rather than SO_REUSEPORT: the port is bound once, so a port already in
use fails once with one clear line before any worker starts; no other program running as the
same user can join the port group and receive a share of Telegram's updates; and a worker
that dies loses no connection waiting in its own accept queue (there is only the shared one).

The parent supervises: a worker that exits is started again (after a pause that grows while
workers keep dying at once), SIGTERM or SIGINT is passed on to every worker, which finishes
the updates it is handling, gives the scheduler lease back and exits; a worker that has not
exited after SHUTDOWN_SECONDS is killed.

The workers share PostgreSQL and Redis: conversation state (Redis FSM storage), one user's
updates one after another (`bot.middlewares.serial`), the scheduled work in one process at a
time (`scheduler.lease`); every worker drains the outbox (its claims keep two senders off one
row).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from types import FrameType

from core.settings import Settings

log = logging.getLogger(__name__)

LISTEN_FD_ENV = "METODBOT_LISTEN_FD"
WORKER_ENV = "METODBOT_WORKER"
SHUTDOWN_SECONDS = 30.0
#: a worker that lived shorter than this died "at once": the next restart waits longer
QUICK_DEATH_SECONDS = 10.0
RESTART_PAUSE_MAX = 30.0
BACKLOG = 1024


@dataclass
class _Worker:
    number: int
    proc: subprocess.Popen[bytes]
    started: float


def bind(settings: Settings) -> socket.socket:
    """The listening socket all workers share (inheritable: it survives exec)."""
    sock = socket.create_server(
        (settings.webhook_host, settings.webhook_port), backlog=BACKLOG, reuse_port=False
    )
    sock.set_inheritable(True)
    return sock


def worker_from_env() -> tuple[int, socket.socket] | None:
    """In a worker: (its number, the inherited listening socket); None in any other process."""
    fd = os.environ.get(LISTEN_FD_ENV)
    if not fd:
        return None
    sock = socket.socket(fileno=int(fd))
    sock.setblocking(False)
    return int(os.environ.get(WORKER_ENV, "0")), sock


class Supervisor:
    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.settings = settings
        self.sock = sock
        self.workers: dict[int, _Worker] = {}
        self.stopping = False
        self._pause = 1.0

    def _spawn(self, number: int) -> None:
        fd = self.sock.fileno()
        env = {**os.environ, LISTEN_FD_ENV: str(fd), WORKER_ENV: str(number)}
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, pass_fds=(fd,))
        self.workers[number] = _Worker(number, proc, time.monotonic())
        log.info("worker %d started (pid %d)", number, proc.pid)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping:
            log.info("%s: stopping the workers", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for number in range(self.settings.webhook_workers):
            self._spawn(number)
        log.info(
            "%d webhook workers on %s:%s",
            self.settings.webhook_workers,
            self.settings.webhook_host,
            self.settings.webhook_port,
        )
        while not self.stopping:
            time.sleep(0.2)
            for number, worker in list(self.workers.items()):
                code = worker.proc.poll()
                if code is None or self.stopping:
                    continue
                lived = time.monotonic() - worker.started
                self._pause = (
                    min(self._pause * 2, RESTART_PAUSE_MAX) if lived < QUICK_DEATH_SECONDS else 1.0
                )
                log.log(
                    logging.WARNING if code == 0 else logging.ERROR,
                    "worker %d (pid %d) exited with %s after %.0f s: restarting in %.0f s",
                    number,
                    worker.proc.pid,
                    code,
                    lived,
                    self._pause,
                )
                time.sleep(self._pause)
                if not self.stopping:
                    self._spawn(number)
        return self._stop_all()

    def _stop_all(self) -> int:
        for worker in self.workers.values():
            if worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        for worker in self.workers.values():
            try:
                worker.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in time: killed", worker.number)
                worker.proc.kill()
                worker.proc.wait()
        self.sock.close()
        return 0


def serve(settings: Settings) -> int:
    """The parent: bind once, migrate once, run and watch the workers until SIGTERM/SIGINT.

    The port is bound first (a port in use is one line and exit code 2, before anything
    else); migrations run in a child of their own (`python -m bot migrate`) before the workers
    start (they would race to migrate), so the parent never imports the bot and stays small."""
    try:
        sock = bind(settings)
    except OSError as exc:
        print(
            f"metodbot: WEBHOOK_PORT: cannot listen on {settings.webhook_host}:"
            f"{settings.webhook_port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 2
    migrated = subprocess.run([sys.executable, "-m", "bot", "migrate"], check=False)
    if migrated.returncode != 0:
        sock.close()
        return migrated.returncode
    return Supervisor(settings, sock).run()


__all__ = ["LISTEN_FD_ENV", "WORKER_ENV", "Supervisor", "bind", "serve", "worker_from_env"]
