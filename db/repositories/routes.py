"""Individual routes: their steps, evidence, statuses and the methodists' comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload, selectinload

from db.models import Route, RouteComment, RouteStep
from domain.route import StepStatus

# hot statements (/route, /events), built once; the user is bound as `route_user` per call
_ARCHIVED = aliased(Route, name="archived")
_CURRENT = (Route.user_id == bindparam("route_user")) & Route.status.in_(("active", "completed"))
_ACTIVE_WITH_PAST = (
    select(
        Route,
        select(func.count())
        .select_from(_ARCHIVED)
        .where(_ARCHIVED.user_id == bindparam("route_user"), _ARCHIVED.status == "archived")
        .correlate_except(_ARCHIVED)
        .scalar_subquery(),
    )
    .where(_CURRENT)
    .order_by(Route.id.desc())
    .limit(1)
    .options(joinedload(Route.steps))
)
#: the id of the current route of the user bound as `route_user`
CURRENT_ROUTE_ID = (
    select(Route.id).where(_CURRENT).order_by(Route.id.desc()).limit(1).scalar_subquery()
)
_ACTIVE_COMPETENCIES = (
    select(RouteStep.competency).where(RouteStep.route_id == CURRENT_ROUTE_ID).distinct()
)


class RouteRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self, user_id: int) -> Route | None:
        row: Route | None = await self.session.scalar(
            select(Route)
            .where(Route.user_id == user_id, Route.status.in_(("active", "completed")))
            .order_by(Route.id.desc())
            .limit(1)
            .options(selectinload(Route.steps))
        )
        return row

    async def active_with_past(self, user_id: int) -> tuple[Route | None, int]:
        """`active` (with its steps) and how many archived routes the user has, in one
        statement (the steps joined, the count rides along; 0 when there is no current
        route)."""
        row = (
            (await self.session.execute(_ACTIVE_WITH_PAST, {"route_user": user_id}))
            .unique()
            .first()
        )
        if row is None:
            return None, 0
        route, count = row._tuple()
        return route, int(count or 0)

    async def active_competencies(self, user_id: int) -> set[str]:
        """The competencies of the steps of the user's current route (`active`), in one query."""
        return set(await self.session.scalars(_ACTIVE_COMPETENCIES, {"route_user": user_id}))

    async def progress_of(self, user_ids: list[int]) -> dict[int, tuple[int, int]]:
        """(closed steps, all steps) of each user's current route."""
        rows = await self.session.execute(
            select(Route.user_id, RouteStep.status, func.count())
            .join(RouteStep, RouteStep.route_id == Route.id)
            .where(Route.user_id.in_(user_ids), Route.status.in_(("active", "completed")))
            .group_by(Route.user_id, RouteStep.status)
        )
        result: dict[int, tuple[int, int]] = {}
        for user_id, status, count in rows.tuples():
            closed, total = result.get(user_id, (0, 0))
            result[user_id] = (closed + (count if StepStatus(status).closed else 0), total + count)
        return result

    async def create(
        self, user_id: int, attempt_id: int | None, pace: str, steps: list[RouteStep]
    ) -> Route:
        """A new route; an earlier one is archived (it stays in the history)."""
        for old in await self.session.scalars(
            select(Route).where(Route.user_id == user_id, Route.status.in_(("active", "completed")))
        ):
            old.status = "archived"
        route = Route(user_id=user_id, attempt_id=attempt_id, pace=pace, status="active")
        route.steps = steps
        self.session.add(route)
        await self.session.flush()
        return route

    async def archived(self, user_id: int) -> list[Route]:
        """Earlier routes (replaced by a newer one), newest first, with their steps."""
        return list(
            await self.session.scalars(
                select(Route)
                .where(Route.user_id == user_id, Route.status == "archived")
                .order_by(Route.id.desc())
                .options(selectinload(Route.steps))
            )
        )

    async def archived_count(self, user_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Route)
            .where(Route.user_id == user_id, Route.status == "archived")
        )
        return int(count or 0)

    async def get(self, route_id: int) -> Route | None:
        """A route of any status with its steps."""
        row: Route | None = await self.session.scalar(
            select(Route).where(Route.id == route_id).options(selectinload(Route.steps))
        )
        return row

    async def step(self, step_id: int) -> RouteStep | None:
        row: RouteStep | None = await self.session.scalar(
            select(RouteStep)
            .where(RouteStep.id == step_id)
            .options(selectinload(RouteStep.route).selectinload(Route.steps))
        )
        return row

    async def add_step(self, route: Route, step: RouteStep) -> None:
        step.position = max((s.position for s in route.steps), default=0) + 1
        route.steps.append(step)
        if route.status == "completed":
            route.status, route.completed_at = "active", None
        await self.session.flush()

    async def set_status(self, step: RouteStep, status: StepStatus, now: datetime) -> None:
        step.status = status.value
        step.completed_at = now if status.closed else None
        await self.session.flush()
        await self._sync_route(step.route_id, now)

    async def record_evidence(
        self,
        step: RouteStep,
        now: datetime,
        *,
        text: str | None,
        file_id: str | None,
        file_name: str | None,
        reflection: str | None,
    ) -> None:
        step.evidence_text = text
        step.evidence_file_id = file_id
        step.evidence_file_name = file_name
        step.reflection = reflection
        await self.set_status(step, StepStatus.DONE, now)

    async def _sync_route(self, route_id: int, now: datetime) -> None:
        """A route whose every step is closed is completed (and reopened if one opens).

        Counts in SQL: the caller may hold a step without its route's other steps loaded."""
        open_steps = await self.session.scalar(
            select(func.count())
            .select_from(RouteStep)
            .where(
                RouteStep.route_id == route_id,
                RouteStep.status.not_in([s.value for s in StepStatus if s.closed]),
            )
        )
        route = await self.session.get(Route, route_id)
        if route is None:
            return
        closed = not open_steps
        if closed and route.status == "active":
            route.status, route.completed_at = "completed", now
        elif not closed and route.status == "completed":
            route.status, route.completed_at = "active", None

    async def comments(self, route_id: int) -> list[RouteComment]:
        return list(
            await self.session.scalars(
                select(RouteComment)
                .where(RouteComment.route_id == route_id)
                .order_by(RouteComment.id)
            )
        )

    async def add_comment(self, route_id: int, author_id: int, text: str) -> None:
        self.session.add(RouteComment(route_id=route_id, author_user_id=author_id, text=text))
        await self.session.flush()
