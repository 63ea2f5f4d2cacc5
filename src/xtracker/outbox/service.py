"""Looking deliveries up and replaying failed ones (same ``event_id``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import DeliveryAttempt, EventInbox, EventOutbox
from xtracker.errors import Conflict, NotFound, ValidationFailed
from xtracker.event.canonical import CANONICAL_EVENTS
from xtracker.outbox import schemas


def to_schema(row: EventOutbox, inbox: EventInbox | None) -> schemas.Delivery:
    return schemas.Delivery(
        id=row.id, inbox_id=row.inbox_id, destination_id=row.destination_id,
        event_id=row.event_id, event=row.event_name,
        canonical=inbox.canonical if inbox else None, uid=inbox.uid if inbox else None,
        status=row.status, attempts=row.attempts, next_attempt_at_ms=row.next_attempt_at_ms,
        last_status_code=row.last_status_code, last_error=row.last_error,
        created_at_ms=row.created_at_ms, updated_at_ms=row.updated_at_ms,
        sent_at_ms=row.sent_at_ms,
    )  # fmt: skip


class OutboxService:
    async def list(
        self,
        session: AsyncSession,
        space_id: str,
        *,
        status: str | None = None,
        destination_id: str | None = None,
        event: str | None = None,
        limit: int = 100,
    ) -> list[schemas.Delivery]:
        """Newest first. ``event`` matches the canonical or the mapped name."""
        if status is not None and status not in schemas.STATUSES:
            raise ValidationFailed(
                "status must be one of " + ", ".join(schemas.STATUSES), field="status"
            )
        query = (
            select(EventOutbox, EventInbox)
            .join(EventInbox, EventInbox.id == EventOutbox.inbox_id, isouter=True)
            .where(EventOutbox.space_id == space_id)
        )
        if status is not None:
            query = query.where(EventOutbox.status == status)
        if destination_id is not None:
            query = query.where(EventOutbox.destination_id == destination_id)
        if event is not None:
            query = query.where(
                EventInbox.canonical == event
                if event in CANONICAL_EVENTS
                else EventOutbox.event_name == event
            )
        query = query.order_by(EventOutbox.created_at_ms.desc(), EventOutbox.id.desc()).limit(
            max(1, min(limit, 1000))
        )
        return [to_schema(row, inbox) for row, inbox in (await session.execute(query)).all()]

    async def _get(
        self, session: AsyncSession, space_id: str | None, outbox_id: str
    ) -> EventOutbox:
        row = await session.get(EventOutbox, outbox_id)
        if row is None or (space_id is not None and row.space_id != space_id):
            raise NotFound(f"no delivery {outbox_id!r} in this space")
        return row

    async def show(
        self, session: AsyncSession, space_id: str | None, outbox_id: str
    ) -> schemas.DeliveryDetail:
        row = await self._get(session, space_id, outbox_id)
        inbox = await session.get(EventInbox, row.inbox_id)
        attempts = await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.outbox_id == row.id)
            .order_by(DeliveryAttempt.at_ms, DeliveryAttempt.attempt, DeliveryAttempt.id)
        )
        return schemas.DeliveryDetail(
            **to_schema(row, inbox).model_dump(),
            attempt_log=[schemas.Attempt.model_validate(a, from_attributes=True) for a in attempts],
        )

    async def replay(
        self, session: AsyncSession, space_id: str | None, outbox_id: str, now_ms: int
    ) -> schemas.DeliveryDetail:
        """Queue a ``failed_permanently`` delivery again, with the same ``event_id``."""
        row = await self._get(session, space_id, outbox_id)
        if row.status != "failed_permanently":
            raise Conflict(
                f"only failed_permanently deliveries can be replayed (this one is {row.status})"
            )
        self._requeue(row, now_ms)
        await session.flush()
        return await self.show(session, space_id, outbox_id)

    async def replay_failed(
        self, session: AsyncSession, space_id: str, now_ms: int, destination_id: str | None = None
    ) -> int:
        """Replay every ``failed_permanently`` delivery of the space (or one destination)."""
        query = update(EventOutbox).where(
            EventOutbox.space_id == space_id, EventOutbox.status == "failed_permanently"
        )
        if destination_id is not None:
            query = query.where(EventOutbox.destination_id == destination_id)
        result = await session.execute(
            query.values(
                status="pending",
                attempts=0,
                next_attempt_at_ms=now_ms,
                lease_until_ms=None,
                lease_owner=None,
                updated_at_ms=now_ms,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def _requeue(self, row: EventOutbox, now_ms: int) -> None:
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at_ms = now_ms
        row.lease_until_ms = None
        row.lease_owner = None
        row.updated_at_ms = now_ms


outbox_service = OutboxService()
