"""The Bot API emulator in a process of its own, for benchmarks that send many messages: it
keeps every message it receives, which in the measured process would hide that process's
memory and take its CPU (Telegram is on other machines too).

    python -m bench.emulator_proc --first ID --count N

serves an emulator knowing the private chats FIRST .. FIRST + N - 1, prints `READY <url>`,
then answers each command line on stdin with a JSON line; `quit` or the end of stdin stops it.
`EmulatorProcess` runs it. It imports only the emulator, so it starts fast.

* `stats [LO HI]`: what it received (with LO HI: the `copyMessage` copies per chat of
  LO .. HI - 1, and the arrival times of the copies);
* `copied`: how many `copyMessage` calls succeeded so far (cheap: for polling);
* `say CHAT TEXT`: the user CHAT sends TEXT (the bot gets it by polling; a message to copy);
* `load FIRST COUNT INTERVAL TEXT`: from now on, every INTERVAL seconds one of the users
  FIRST .. FIRST + COUNT - 1 in turn sends TEXT; `unload` stops it and answers with the reply
  times (ms from the update to the bot's first message in that chat).

`--limits` enforces Telegram's flood limits (devtools/emulator/ratelimit.py; the 429s it
sends are `refused` in `stats`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import resource
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-token-abcdefghij"
#: the longest answer line (a `stats` with the arrival times of 10,000+ copies)
LINE_LIMIT = 64 * 1024 * 1024


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

    def __init__(self, first: int, count: int, *, limits: bool = False) -> None:
        self.count, self.first, self.limits = count, first, limits
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
            *(["--limits"] if self.limits else []),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT,
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

    async def ask(self, command: str) -> dict[str, Any]:
        """Send a command line; its JSON answer."""
        await self._command(command)
        result: dict[str, Any] = json.loads(await self._line(within=120))
        return result

    async def stats(self, chats: range | None = None) -> dict[str, Any]:
        if chats is None:
            return await self.ask("stats")
        return await self.ask(f"stats {chats.start} {chats.stop}")

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


class HelpLoad:
    """Users in turn send a command every `interval` seconds; the time to the bot's first
    message in that chat after it is a reply time (a user whose reply is still awaited is
    skipped and counted in `busy`)."""

    def __init__(self, emu: Any, first: int, count: int, interval: float, text: str) -> None:
        self.emu, self.interval, self.text = emu, interval, text
        self.chats = [first + i for i in range(count)]
        self.asked: dict[int, float] = {}
        self.replies_ms: list[float] = []
        self.busy = 0
        self.sent = 0
        emu.add_listener(self._on_message)
        self.task = asyncio.create_task(self._run())

    def _on_message(self, event: str, message: Any) -> None:
        asked = self.asked.pop(message.chat_id, None) if event == "sent" else None
        if asked is not None:
            self.replies_ms.append((time.monotonic() - asked) * 1000)

    async def _run(self) -> None:
        next_at = time.monotonic()
        for chat_id in itertools.cycle(self.chats):
            next_at += self.interval
            if chat_id in self.asked:
                self.busy += 1
            else:
                user = self.emu.user(chat_id)
                self.asked[chat_id] = time.monotonic()
                self.emu.send_message(user, self.text)
                self.sent += 1
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def stop(self) -> dict[str, Any]:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await asyncio.sleep(2)  # the replies still on their way
        self.emu._listeners.remove(self._on_message)
        return {
            "sent": self.sent,
            "replies_ms": self.replies_ms,
            "unanswered": len(self.asked),
            "busy": self.busy,
        }


def _stats(emu: Any, first: int, count: int, args: list[str]) -> dict[str, Any]:
    per_chat = [emu.count_sent(first + i) for i in range(count)]
    stats: dict[str, Any] = {
        "send_ok": sum(1 for call in emu.calls if call.method.lower() == "sendmessage" and call.ok),
        "calls": len(emu.calls),
        "chats_once": per_chat.count(1),
        "chats_more": sum(1 for n in per_chat if n > 1),
        "violations": len(emu.violations),
        "violation_sample": emu.violations[:3],
        "refused": emu.rate_limits.refused if emu.rate_limits is not None else 0,
        "refused_chat": emu.rate_limits.refused_chat if emu.rate_limits is not None else 0,
        "rss_kb": vm_rss_kb(),
    }
    if len(args) == 2:
        lo, hi = int(args[0]), int(args[1])
        copies = [
            call
            for call in emu.calls
            if call.method.lower() == "copymessage"
            and call.ok
            and lo <= int(call.params.get("chat_id", 0)) < hi
        ]
        copied: dict[int, int] = {}
        for call in copies:
            chat_id = int(call.params["chat_id"])
            copied[chat_id] = copied.get(chat_id, 0) + 1
        counts = [copied.get(chat_id, 0) for chat_id in range(lo, hi)]
        stats |= {
            "copy_ok": len(copies),
            "copies_once": counts.count(1),
            "copies_more": sum(1 for n in counts if n > 1),
            "copies_extra": sum(n - 1 for n in counts if n > 1),
            "copies_none": counts.count(0),
            "copy_at": sorted(round(call.at, 4) for call in copies),
        }
    return stats


async def serve_emulator(first: int, count: int, limits: bool = False) -> None:
    """The child: an emulator that knows the chats and answers the commands on stdin."""
    from devtools.emulator import BotAPIEmulator, EmuUser, RateLimits

    async with BotAPIEmulator(token=TOKEN, rate_limits=RateLimits() if limits else None) as emu:
        for i in range(count):
            emu.add_user(EmuUser(id=first + i, first_name="U", language_code="ru"))
        print("READY", emu.base_url, flush=True)
        cpu0 = cpu_seconds()
        load: HelpLoad | None = None
        copied = [0]

        def count_copy(call: Any) -> None:
            if call.method.lower() == "copymessage" and call.ok:
                copied[0] += 1

        emu.on_call(count_copy)
        while True:
            line = (await asyncio.to_thread(sys.stdin.readline)).strip()
            command, *args = line.split(" ", 4) if line else ["quit"]
            answer: dict[str, Any]
            if command == "stats":
                answer = _stats(emu, first, count, args) | {"cpu_s": cpu_seconds() - cpu0}
            elif command == "copied":
                answer = {"n": copied[0]}
            elif command == "say":
                chat_id, text = int(args[0]), " ".join(args[1:])
                user = emu.user(chat_id)
                assert user is not None, f"unknown chat {chat_id}"
                update = emu.send_message(user, text)
                answer = {"message_id": update["message"]["message_id"]}
            elif command == "load":
                load = HelpLoad(emu, int(args[0]), int(args[1]), float(args[2]), args[3])
                answer = {"ok": True}
            elif command == "unload" and load is not None:
                answer, load = await load.stop(), None
            else:
                break
            print(json.dumps(answer), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_proc")
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--limits", action="store_true", help="Telegram's flood limits")
    args = parser.parse_args(argv)
    asyncio.run(serve_emulator(args.first, args.count, args.limits))


if __name__ == "__main__":
    main()
