"""An offered seat nobody confirmed in time goes to the next in line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.repo import Repo
from services.registrations import expire_offer


async def run(repo: Repo, payload: dict[str, Any], now: datetime) -> None:
    await expire_offer(repo, int(payload["reg_id"]), now)
