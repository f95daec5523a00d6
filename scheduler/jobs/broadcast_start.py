"""A scheduled broadcast starts: its recipients become outbox rows (the sender delivers them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.repo import Repo
from services.broadcasts import start


async def run(repo: Repo, payload: dict[str, Any], now: datetime) -> None:
    await start(repo, int(payload["broadcast_id"]), now, announce=True)
