"""Looking events and conflicts up (the write path is ``event.ingest``)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import EventConflict, EventInbox
from xtracker.errors import UnknownEvent
from xtracker.event import schemas
from xtracker.event.canonical import CANONICAL_EVENTS
from xtracker.kit.money import format_amount


def cents_text(cents: int | None) -> str | None:
    return None if cents is None else format_amount(Decimal(cents) / 100)


def to_schema(row: EventInbox) -> schemas.Event:
    return schemas.Event(
        inbox_id=row.id, event=row.canonical, uid=row.uid, tg_id=row.tg_id, link_id=row.link_id,
        eid=row.eid, value=cents_text(row.value_cents), currency=row.currency,
        occurred_at_ms=row.occurred_at_ms, received_at_ms=row.received_at_ms, source=row.source,
    )  # fmt: skip


class EventService:
    async def conflicts(
        self, session: AsyncSession, space_id: str, limit: int = 100
    ) -> list[schemas.Conflict]:
        rows = await session.scalars(
            select(EventConflict)
            .where(EventConflict.space_id == space_id)
            .order_by(EventConflict.received_at_ms.desc())
            .limit(max(1, min(limit, 1000)))
        )
        return [
            schemas.Conflict(
                id=r.id,
                inbox_id=r.inbox_id,
                received_at_ms=r.received_at_ms,
                value=cents_text(r.value_cents),
                currency=r.currency,
                first_value=cents_text(r.first_value_cents),
                first_currency=r.first_currency,
            )
            for r in rows
        ]

    async def list(
        self,
        session: AsyncSession,
        space_id: str,
        *,
        uid: str | None = None,
        event: str | None = None,
        tg_id: int | None = None,
        before_ms: int | None = None,
        limit: int = 100,
    ) -> list[schemas.Event]:
        query = select(EventInbox).where(EventInbox.space_id == space_id)
        if uid is not None:
            query = query.where(EventInbox.uid == uid)
        if event is not None:
            if event not in CANONICAL_EVENTS:
                raise UnknownEvent(field="event")
            query = query.where(EventInbox.canonical == event)
        if tg_id is not None:
            query = query.where(EventInbox.tg_id == tg_id)
        if before_ms is not None:
            query = query.where(EventInbox.received_at_ms < before_ms)
        query = query.order_by(EventInbox.received_at_ms.desc(), EventInbox.id.desc())
        rows = await session.scalars(query.limit(max(1, min(limit, 1000))))
        return [to_schema(row) for row in rows]


event_service = EventService()
