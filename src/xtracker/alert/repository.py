"""Alert tables, and the delivery counters the destination rules read.

The delivery queries are per-window counts on indexed columns: ``delivery_attempt``
(space_id, at_ms) when the delivery capability keeps attempt records, otherwise the outbox's
(space_id, created_at_ms) index over the rows of the last three days; failures in a row from
the circuit breaker's row; the queue from the outbox's (destination_id, status) index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import Alert, AlertChannel, AlertNotification, AlertRule, Base

OUTBOX_LOOKBACK_MS = 3 * 86_400_000
QUEUED = ("pending", "sending", "retrying")


@dataclass
class DeliveryStats:
    destination_id: str
    name: str
    attempts: int = 0
    failed: int = 0
    last_success_ms: int | None = None
    recent_outcomes: tuple[bool, ...] = ()  # newest first, True = sent
    consecutive_failures: int = 0
    circuit: str = "closed"
    queued: int = 0
    oldest_queued_ms: int | None = None


def _has(table: str) -> bool:
    return table in Base.metadata.tables


class AlertRepository:
    # -- rules ---------------------------------------------------------------------------
    async def rules(self, session: AsyncSession, space_id: str) -> dict[str, AlertRule]:
        rows = await session.scalars(select(AlertRule).where(AlertRule.space_id == space_id))
        return {r.kind: r for r in rows}

    # -- alerts --------------------------------------------------------------------------
    async def open_alerts(self, session: AsyncSession, space_id: str) -> Sequence[Alert]:
        rows = await session.scalars(
            select(Alert).where(Alert.space_id == space_id, Alert.open_key.is_not(None))
        )
        return rows.all()

    async def recent(self, session: AsyncSession, space_id: str, limit: int) -> Sequence[Alert]:
        rows = await session.scalars(
            select(Alert)
            .where(Alert.space_id == space_id, Alert.state == "resolved")
            .order_by(Alert.started_at_ms.desc())
            .limit(limit)
        )
        return rows.all()

    # -- channels and notifications --------------------------------------------------------
    async def channels(
        self, session: AsyncSession, space_id: str, active_only: bool = False
    ) -> Sequence[AlertChannel]:
        query = select(AlertChannel).where(AlertChannel.space_id == space_id)
        if active_only:
            query = query.where(AlertChannel.active.is_(True))
        return (await session.scalars(query.order_by(AlertChannel.created_at_ms))).all()

    async def due_notifications(
        self, session: AsyncSession, now_ms: int, limit: int = 100
    ) -> Sequence[AlertNotification]:
        rows = await session.scalars(
            select(AlertNotification)
            .where(
                AlertNotification.status == "pending",
                AlertNotification.next_attempt_at_ms <= now_ms,
            )
            .order_by(AlertNotification.next_attempt_at_ms)
            .limit(limit)
        )
        return rows.all()

    async def claim(
        self, session: AsyncSession, notification_id: str, now_ms: int, lease_ms: int
    ) -> bool:
        """Take the lease on one notification; False when another worker holds it."""
        result = await session.execute(
            update(AlertNotification)
            .where(
                AlertNotification.id == notification_id,
                AlertNotification.status == "pending",
                or_(
                    AlertNotification.lease_until_ms.is_(None),
                    AlertNotification.lease_until_ms < now_ms,
                ),
            )
            .values(lease_until_ms=now_ms + lease_ms)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def delete_channel_notifications(self, session: AsyncSession, channel_id: str) -> None:
        await session.execute(
            delete(AlertNotification).where(
                AlertNotification.channel_id == channel_id, AlertNotification.status == "pending"
            )
        )

    # -- what the destination rules read ---------------------------------------------------
    async def delivery_stats(
        self, session: AsyncSession, space_id: str, since_ms: int, now_ms: int, recent: int
    ) -> dict[str, DeliveryStats]:
        params: dict[str, Any] = {"space": space_id, "since": since_ms}
        dests = await session.execute(
            text("SELECT id, name FROM destination WHERE space_id = :space AND active = :on"),
            {**params, "on": True},
        )
        stats = {str(d[0]): DeliveryStats(str(d[0]), str(d[1])) for d in dests}
        if not stats:
            return stats
        if _has("delivery_attempt"):
            window = await session.execute(
                text(
                    "SELECT destination_id, COUNT(*),"
                    " SUM(CASE WHEN outcome = 'sent' THEN 0 ELSE 1 END),"
                    " MAX(CASE WHEN outcome = 'sent' THEN at_ms END)"
                    " FROM delivery_attempt WHERE space_id = :space AND at_ms >= :since"
                    " GROUP BY destination_id"
                ),
                params,
            )
            recent_sql = (
                "SELECT outcome = 'sent' FROM delivery_attempt WHERE space_id = :space"
                " AND at_ms >= :since AND destination_id = :d ORDER BY at_ms DESC LIMIT :n"
            )
        else:
            window = await session.execute(
                text(
                    "SELECT destination_id, COUNT(*),"
                    " SUM(CASE WHEN status = 'sent' THEN 0 ELSE 1 END), MAX(sent_at_ms)"
                    " FROM event_outbox WHERE space_id = :space AND created_at_ms >= :back"
                    " AND updated_at_ms >= :since AND attempts > 0 AND status <> 'sending'"
                    " GROUP BY destination_id"
                ),
                {**params, "back": now_ms - OUTBOX_LOOKBACK_MS},
            )
            recent_sql = (
                "SELECT status = 'sent' FROM event_outbox WHERE space_id = :space"
                " AND created_at_ms >= :back AND destination_id = :d AND attempts > 0"
                " AND updated_at_ms >= :since AND status <> 'sending'"
                " ORDER BY updated_at_ms DESC LIMIT :n"
            )
        for dest_id, n, failed, last_ok in window:
            row = stats.get(str(dest_id))
            if row is not None:
                row.attempts, row.failed = int(n), int(failed or 0)
                row.last_success_ms = None if last_ok is None else int(last_ok)
        if recent > 0:  # failures in a row, permanent ones included (the circuit counts transient)
            for dest_id, row in stats.items():
                outcomes = await session.execute(
                    text(recent_sql),
                    {"space": space_id, "d": dest_id, "n": recent, "since": since_ms,
                     "back": now_ms - OUTBOX_LOOKBACK_MS},
                )  # fmt: skip
                row.recent_outcomes = tuple(bool(o[0]) for o in outcomes)
        if _has("destination_circuit"):
            circuits = await session.execute(
                text(
                    "SELECT destination_id, state, consecutive_failures FROM destination_circuit"
                    " WHERE destination_id IN :ids"
                ).bindparams(_expanding("ids")),
                {"ids": list(stats)},
            )
            for dest_id, state, failures in circuits:
                row = stats[str(dest_id)]
                row.circuit, row.consecutive_failures = str(state), int(failures or 0)
        queued = await session.execute(  # the (destination_id, status) index, queued rows only
            text(
                "SELECT destination_id, COUNT(*), MIN(created_at_ms) FROM event_outbox"
                " WHERE destination_id IN :ids AND status IN ('pending', 'sending', 'retrying')"
                " GROUP BY destination_id"
            ).bindparams(_expanding("ids")),
            {"ids": list(stats)},
        )
        for dest_id, n, oldest in queued:
            row = stats.get(str(dest_id))
            if row is not None:
                row.queued, row.oldest_queued_ms = int(n), int(oldest)
        return stats


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


alert_repository = AlertRepository()
