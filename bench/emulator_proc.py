"""The Bot API emulator in a process of its own, for benchmarks that send many messages: it
keeps every message it receives, which in the measured process would hide that process's
memory and take its CPU (Telegram is on other machines too).

    python -m bench.emulator_proc --first ID --count N

serves an emulator knowing the private chats FIRST .. FIRST + N - 1, prints `READY <url>`,
then answers each `stats` line on stdin with a JSON line (what it received); `quit` or the end
of stdin stops it. `EmulatorProcess` runs it. It imports only the emulator, so it starts fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-token-abcdefghij"


def vm_rss_kb() -> int:
    """The process's resident set now (kB), from /proc/self/status (0 where there is none)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def max_rss_kb() -> int:
    """The process's peak resident set so far (kB; Linux reports ru_maxrss in kB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


class EmulatorProcess:
    """The Bot API emulator in a process of its own, knowing the chats of `count` users.
    `stats()` asks it what it received."""

    def __init__(self, first: int, count: int) -> None:
        self.count, self.first = count, first
        self.base_url = ""
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> EmulatorProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.emulator_proc",
            "--first",
            str(self.first),
            "--count",
            str(self.count),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        ready = await self._line(within=120)
        kind, _, url = ready.partition(" ")
        if kind != "READY":
            raise RuntimeError(f"the emulator process did not start: {ready!r}")
        self.base_url = url
        return self

    async def _line(self, within: float) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), within)
        return line.decode().strip()

    async def _command(self, command: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(command.encode() + b"\n")
        await self._proc.stdin.drain()

    async def stats(self) -> dict[str, Any]:
        await self._command("stats")
        result: dict[str, Any] = json.loads(await self._line(within=120))
        return result

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ConnectionError):
                assert proc.stdin is not None
                proc.stdin.write(b"quit\n")
                await proc.stdin.drain()
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def serve_emulator(first: int, count: int) -> None:
    """The child: an emulator that knows the chats; "stats" on stdin prints what it got."""
    from devtools.emulator import BotAPIEmulator, EmuUser

    async with BotAPIEmulator(token=TOKEN) as emu:
        for i in range(count):
            emu.add_user(EmuUser(id=first + i, first_name="U", language_code="ru"))
        print("READY", emu.base_url, flush=True)
        cpu0 = cpu_seconds()
        while (await asyncio.to_thread(sys.stdin.readline)).strip() == "stats":
            per_chat = [emu.count_sent(first + i) for i in range(count)]
            stats = {
                "send_ok": sum(
                    1 for call in emu.calls if call.method.lower() == "sendmessage" and call.ok
                ),
                "calls": len(emu.calls),
                "chats_once": per_chat.count(1),
                "chats_more": sum(1 for n in per_chat if n > 1),
                "violations": len(emu.violations),
                "violation_sample": emu.violations[:3],
                "cpu_s": cpu_seconds() - cpu0,
                "rss_kb": vm_rss_kb(),
            }
            print(json.dumps(stats), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_proc")
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve_emulator(args.first, args.count))


if __name__ == "__main__":
    main()
