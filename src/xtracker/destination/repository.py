"""Destination rows (management paths, SQLAlchemy ORM)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import Destination, DestinationCircuit, EventOutbox


class DestinationRepository:
    async def get(self, session: AsyncSession, destination_id: str) -> Destination | None:
        return await session.get(Destination, destination_id)

    async def circuits(
        self, session: AsyncSession, ids: list[str]
    ) -> dict[str, DestinationCircuit]:
        if not ids:
            return {}
        rows = await session.scalars(
            select(DestinationCircuit).where(DestinationCircuit.destination_id.in_(ids))
        )
        return {row.destination_id: row for row in rows}

    async def delete(self, session: AsyncSession, destination: Destination, now_ms: int) -> None:
        """Remove it; its undelivered rows fail permanently (replaying them needs it back)."""
        await session.execute(
            update(EventOutbox)
            .where(
                EventOutbox.destination_id == destination.id,
                EventOutbox.status.in_(("pending", "retrying", "sending")),
            )
            .values(
                status="failed_permanently",
                last_error="destination removed",
                lease_until_ms=None,
                lease_owner=None,
                updated_at_ms=now_ms,
            )
        )
        circuit = await session.get(DestinationCircuit, destination.id)
        if circuit is not None:
            await session.delete(circuit)
        await session.delete(destination)
        await session.flush()

    async def list(self, session: AsyncSession, space_id: str) -> list[Destination]:
        query = (
            select(Destination)
            .where(Destination.space_id == space_id)
            .order_by(Destination.created_at_ms, Destination.id)
        )
        return list(await session.scalars(query))


destination_repository = DestinationRepository()
