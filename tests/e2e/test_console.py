"""`python -m bot console`: a newcomer completes consent and the profile in the terminal."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.console import run_console
from tests.conftest import make_settings

Step = str | Callable[[str], str]


def pick(label: str) -> Callable[[str], str]:
    """Press the newest button on screen whose label contains `label`."""

    def choose(screen: str) -> str:
        found = [(n, t.strip()) for n, t in re.findall(r"\[(\d+)\] ([^\[\n]*)", screen)]
        for exact in (True, False):
            for number, text in reversed(found):
                if text == label or (not exact and label in text):
                    return f"#{number}"
        raise AssertionError(f"no button {label!r} on screen:\n{screen[-2000:]}")

    return choose


async def drive(tmp_path: Path, lang: str, role: str, steps: list[Step]) -> str:
    out: list[str] = []
    script = iter(steps)

    async def read_line() -> str | None:
        step = next(script, None)
        if step is None:
            return None
        line = step if isinstance(step, str) else step("\n".join(out))
        out.append(f"you> {line}")
        return line

    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    code = await run_console(settings, role=role, lang=lang, read_line=read_line, write=out.append)
    assert code == 0
    screen = "\n".join(out)
    assert "Bot API violation" not in screen
    return screen


@pytest.mark.parametrize(
    ("lang", "agree", "muni", "position", "subject", "done", "age", "finish", "ready"),
    [
        (
            "ru",
            "Я согласен",
            "Волгодонск",
            "Учитель",
            "Математика",
            "Готово",
            "до 35",
            "Всё верно",
            "профиль готов",
        ),
        (
            "en",
            "I agree",
            "Volgodonsk",
            "Teacher",
            "Mathematics",
            "Done",
            "under 35",
            "Everything is correct",
            "profile is ready",
        ),
    ],
)
async def test_console_onboarding(
    tmp_path: Path,
    lang: str,
    agree: str,
    muni: str,
    position: str,
    subject: str,
    done: str,
    age: str,
    finish: str,
    ready: str,
) -> None:
    screen = await drive(
        tmp_path,
        lang,
        "teacher",
        [
            pick(agree),
            "Иванова Анна Петровна",
            pick(muni),
            pick("СОШ № 1"),
            pick(position),
            pick(subject),
            pick(done),
            "5",
            pick(age),
            pick(finish),
            ":q",
        ],
    )
    assert "152-" in screen
    assert ready in screen.lower()
    assert "⌨" in screen  # the main menu keyboard is shown


async def test_console_as_admin_and_coordinator(tmp_path: Path) -> None:
    screen = await drive(tmp_path, "en", "admin", ["/staff", ":q"])
    assert "role: admin" in screen and "ADMIN_IDS are always admins" in screen  # /staff answered
    screen = await drive(tmp_path, "en", "coordinator", ["/schools", ":help", "#99", ":q"])
    assert "municipality" in screen.lower()  # a coordinator without a profile is told to set it
    assert "(no button #99 on screen)" in screen
