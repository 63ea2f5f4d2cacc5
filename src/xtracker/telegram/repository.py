"""Storage of the Telegram funnel.

Hot-path statements (taking an invite link on a landing visit, handling an update, claiming
due drip actions) are plain SQL for ``Tx`` and run as ``GroupCommitter`` jobs; the only
SQLite/PostgreSQL fork is ``FOR UPDATE SKIP LOCKED`` on PostgreSQL's claims (SQLite's
``BEGIN IMMEDIATE`` already serialises writers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.dialect import Tx
from xtracker.db.models import (
    Link,
    TelegramBot,
    TelegramChannel,
    TelegramChannelLink,
    TelegramChannelStat,
    TelegramDripStep,
    TelegramInvite,
    TelegramMemberEvent,
)
from xtracker.kit.ids import new_uid

HOUR_MS = 3_600_000


def skip_locked(tx: Tx, of: str) -> str:
    return f" FOR UPDATE OF {of} SKIP LOCKED" if tx.dialect == "postgresql" else ""


# ---- invite pool ---------------------------------------------------------------------------
def take_invite_sql(tx: Tx) -> str:
    return (
        "UPDATE tg_invite SET status = 'taken', uid = ?, taken_at_ms = ?"
        " WHERE status = 'available' AND id = (SELECT i.id FROM tg_invite i"
        " WHERE i.link_id = ? AND i.status = 'available' ORDER BY i.created_at_ms, i.id LIMIT 1"
        + skip_locked(tx, "i")
        + ") RETURNING invite_link"
    )


INSERT_INVITE = (
    "INSERT INTO tg_invite (id, space_id, link_id, chat_id, invite_link, status, uid,"
    " created_at_ms, taken_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_LINK_SETTINGS = (
    "SELECT cl.link_id, cl.space_id, cl.chat_id, cl.auto_approve, cl.pool_depth, l.slug,"
    " b.id, b.token_enc, c.username FROM tg_channel_link cl JOIN link l ON l.id = cl.link_id"
    " JOIN tg_bot b ON b.space_id = cl.space_id"
    " LEFT JOIN tg_channel c ON c.space_id = cl.space_id AND c.chat_id = cl.chat_id"
)


def take_invite_job(link_id: str, uid: str, now_ms: int) -> Any:
    """Take the oldest available invite link of ``link_id`` for ``uid`` (None: pool empty)."""

    async def job(tx: Tx) -> str | None:
        row = await tx.fetchone(take_invite_sql(tx), (uid, now_ms, link_id))
        return None if row is None else str(row[0])

    return job


def insert_invites_job(
    space_id: str, link_id: str, chat_id: int, links: list[str], now_ms: int, uid: str | None
) -> Any:
    """Store freshly minted invite links: available, or already taken by ``uid``."""
    status = "available" if uid is None else "taken"
    rows = [
        (new_uid(now_ms), space_id, link_id, chat_id, link, status, uid, now_ms,
         None if uid is None else now_ms)
        for link in links
    ]  # fmt: skip

    async def job(tx: Tx) -> int:
        await tx.executemany(INSERT_INVITE, rows)
        return len(rows)

    return job


@dataclass(frozen=True)
class LinkTarget:
    """What the landing and the refiller need to know about one channel link."""

    link_id: str
    space_id: str
    chat_id: int
    auto_approve: bool
    pool_depth: int
    slug: str
    bot_id: str
    token_enc: str
    channel_username: str | None


def _target(row: tuple[Any, ...]) -> LinkTarget:
    return LinkTarget(
        row[0], row[1], int(row[2]), bool(row[3]), int(row[4]), row[5], row[6], row[7], row[8]
    )


async def link_target(tx: Tx, link_id: str) -> LinkTarget | None:
    row = await tx.fetchone(SELECT_LINK_SETTINGS + " WHERE cl.link_id = ?", (link_id,))
    return None if row is None else _target(row)


async def link_targets_to_refill(tx: Tx) -> list[tuple[LinkTarget, int]]:
    """Every channel link of an active link with fewer available invites than its depth."""
    rows = await tx.fetchall(
        SELECT_LINK_SETTINGS
        + " WHERE l.active = ? AND cl.pool_depth > (SELECT count(*) FROM tg_invite i"
        " WHERE i.link_id = cl.link_id AND i.status = 'available') ORDER BY cl.created_at_ms",
        (True,),
    )
    out = []
    for row in rows:
        target = _target(row)
        have = await tx.fetchone(
            "SELECT count(*) FROM tg_invite WHERE link_id = ? AND status = 'available'",
            (target.link_id,),
        )
        out.append((target, target.pool_depth - int(have[0] if have else 0)))
    return out


# ---- updates ---------------------------------------------------------------------------------
INSERT_UPDATE = (
    "INSERT INTO tg_update (bot_id, update_id, received_at_ms) VALUES (?, ?, ?)"
    " ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING update_id"
)
SELECT_INVITE = (
    "SELECT id, link_id, uid, status FROM tg_invite WHERE invite_link = ? AND space_id = ?"
)
USE_INVITE = (
    "UPDATE tg_invite SET status = 'used', used_at_ms = ? WHERE id = ? AND status <> 'used'"
)
SELECT_LAST_REQUEST = (
    "SELECT link_id, uid FROM tg_member_event WHERE space_id = ? AND chat_id = ? AND tg_id = ?"
    " AND kind = 'join_request' AND uid IS NOT NULL ORDER BY ts_ms DESC LIMIT 1"
)
SELECT_CHANNEL = "SELECT id FROM tg_channel WHERE space_id = ? AND chat_id = ?"
SELECT_AUTO_APPROVE = "SELECT auto_approve FROM tg_channel_link WHERE link_id = ?"
SELECT_DRIP = (
    "SELECT delay_s, text, button_text, button_url FROM tg_drip_step WHERE link_id = ?"
    " ORDER BY position"
)
INSERT_MEMBER_EVENT = (
    "INSERT INTO tg_member_event (id, space_id, chat_id, tg_id, kind, organic, link_id, uid,"
    " invite_link, ts_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_ACTION = (
    "INSERT INTO tg_action (id, space_id, bot_id, join_id, kind, seq, chat_id, user_id,"
    " user_chat_id, text, button_text, button_url, status, due_at_ms, attempts, created_at_ms)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, 0, ?)"
)
SET_OFFSET = "UPDATE tg_bot SET update_offset = ? WHERE id = ? AND update_offset < ?"


# ---- drip actions ---------------------------------------------------------------------------
def claim_actions_sql(tx: Tx) -> str:
    return (
        "UPDATE tg_action SET status = 'sending', lease_until_ms = ? WHERE id IN ("
        "SELECT a.id FROM tg_action a WHERE (a.status = 'pending'"
        " OR (a.status = 'sending' AND a.lease_until_ms < ?)) AND a.due_at_ms <= ?"
        " AND NOT EXISTS (SELECT 1 FROM tg_action b WHERE b.join_id = a.join_id"
        " AND b.seq < a.seq AND b.status IN ('pending', 'sending'))"
        " ORDER BY a.due_at_ms, a.seq LIMIT ?" + skip_locked(tx, "a") + ")"
        " RETURNING id, bot_id, join_id, kind, seq, chat_id, user_id, user_chat_id, text,"
        " button_text, button_url, attempts, due_at_ms"
    )


@dataclass(frozen=True)
class Action:
    id: str
    bot_id: str
    join_id: str
    kind: str
    seq: int
    chat_id: int
    user_id: int
    user_chat_id: int
    text: str | None
    button_text: str | None
    button_url: str | None
    attempts: int
    due_at_ms: int


def claim_actions_job(now_ms: int, lease_ms: int, limit: int) -> Any:
    async def job(tx: Tx) -> list[Action]:
        rows = await tx.fetchall(claim_actions_sql(tx), (now_ms + lease_ms, now_ms, now_ms, limit))
        actions = [
            Action(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), int(r[7]), r[8],
                   r[9], r[10], int(r[11]), int(r[12]))
            for r in rows
        ]  # fmt: skip
        actions.sort(key=lambda a: (a.due_at_ms, a.seq))
        return actions

    return job


def finish_action_job(
    action_id: str,
    status: str,
    now_ms: int,
    *,
    due_at_ms: int | None = None,
    error: str | None = None,
    attempted: bool = True,
) -> Any:
    """Record an attempt's outcome; ``pending`` with ``due_at_ms`` re-schedules it."""

    async def job(tx: Tx) -> None:
        await tx.execute(
            "UPDATE tg_action SET status = ?, lease_until_ms = NULL, last_error = ?,"
            " attempts = attempts + ?, due_at_ms = COALESCE(?, due_at_ms),"
            " done_at_ms = ? WHERE id = ?",
            (status, error, 1 if attempted else 0, due_at_ms,
             now_ms if status != "pending" else None, action_id),
        )  # fmt: skip

    return job


def stop_messages_job(join_id: str, now_ms: int, reason: str) -> Any:
    """The user blocked the bot: the join's remaining messages are not sent (approval is)."""

    async def job(tx: Tx) -> None:
        await tx.execute(
            "UPDATE tg_action SET status = 'stopped', last_error = ?, done_at_ms = ?,"
            " lease_until_ms = NULL WHERE join_id = ? AND kind = 'message'"
            " AND status IN ('pending', 'sending')",
            (reason, now_ms, join_id),
        )

    return job


# ---- singleton jobs across processes ------------------------------------------------------
CLAIM_LEASE = (
    "INSERT INTO tg_lease (name, owner, until_ms) VALUES (?, ?, ?)"
    " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms"
    " WHERE tg_lease.owner = excluded.owner OR tg_lease.until_ms < ? RETURNING owner"
)


def claim_lease_job(name: str, owner: str, now_ms: int, ttl_ms: int) -> Any:
    """Take or renew the lease ``name`` until ``now + ttl``; False while another owner holds it."""

    async def job(tx: Tx) -> bool:
        row = await tx.fetchone(CLAIM_LEASE, (name, owner, now_ms + ttl_ms, now_ms))
        return row is not None

    return job


# ---- ORM reads and writes for the management paths ----------------------------------------
async def bot_of_space(session: AsyncSession, space_id: str) -> TelegramBot | None:
    return (
        await session.scalars(select(TelegramBot).where(TelegramBot.space_id == space_id))
    ).first()


async def bot_by_id(session: AsyncSession, bot_id: str) -> TelegramBot | None:
    return await session.get(TelegramBot, bot_id)


async def all_bots(session: AsyncSession) -> list[TelegramBot]:
    return list(await session.scalars(select(TelegramBot).order_by(TelegramBot.created_at_ms)))


async def channels_of_space(session: AsyncSession, space_id: str) -> list[TelegramChannel]:
    query = (
        select(TelegramChannel)
        .where(TelegramChannel.space_id == space_id)
        .order_by(TelegramChannel.created_at_ms)
    )
    return list(await session.scalars(query))


async def channel_by_chat(
    session: AsyncSession, space_id: str, chat_id: int
) -> TelegramChannel | None:
    query = select(TelegramChannel).where(
        TelegramChannel.space_id == space_id, TelegramChannel.chat_id == chat_id
    )
    return (await session.scalars(query)).first()


async def channel_link(session: AsyncSession, link_id: str) -> TelegramChannelLink | None:
    return await session.get(TelegramChannelLink, link_id)


async def pool_counts(session: AsyncSession, link_id: str) -> dict[str, int]:
    query = (
        select(TelegramInvite.status, func.count())
        .where(TelegramInvite.link_id == link_id)
        .group_by(TelegramInvite.status)
    )
    counts = {"available": 0, "taken": 0, "used": 0}
    for status, count in (await session.execute(query)).all():
        counts[status] = int(count)
    return counts


async def channel_links_of_space(
    session: AsyncSession, space_id: str
) -> list[tuple[TelegramChannelLink, Link]]:
    query = (
        select(TelegramChannelLink, Link)
        .join(Link, Link.id == TelegramChannelLink.link_id)
        .where(TelegramChannelLink.space_id == space_id)
        .order_by(Link.created_at_ms)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def drip_steps(session: AsyncSession, link_id: str) -> list[TelegramDripStep]:
    query = (
        select(TelegramDripStep)
        .where(TelegramDripStep.link_id == link_id)
        .order_by(TelegramDripStep.position)
    )
    return list(await session.scalars(query))


async def member_events(
    session: AsyncSession, space_id: str, chat_id: int, since_ms: int, until_ms: int
) -> list[TelegramMemberEvent]:
    query = select(TelegramMemberEvent).where(
        TelegramMemberEvent.space_id == space_id,
        TelegramMemberEvent.chat_id == chat_id,
        TelegramMemberEvent.ts_ms >= since_ms,
        TelegramMemberEvent.ts_ms < until_ms,
    )
    return list(await session.scalars(query))


async def member_counts(
    session: AsyncSession, space_id: str, chat_id: int, since_ms: int, until_ms: int
) -> list[TelegramChannelStat]:
    query = select(TelegramChannelStat).where(
        TelegramChannelStat.space_id == space_id,
        TelegramChannelStat.chat_id == chat_id,
        TelegramChannelStat.hour_ms >= since_ms,
        TelegramChannelStat.hour_ms < until_ms,
    )
    return list(await session.scalars(query))


UPSERT_STAT = (
    "INSERT INTO tg_channel_stat (space_id, chat_id, hour_ms, member_count, recorded_at_ms)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (space_id, chat_id, hour_ms) DO UPDATE SET"
    " member_count = excluded.member_count, recorded_at_ms = excluded.recorded_at_ms"
)


def record_stat_job(space_id: str, chat_id: int, count: int, now_ms: int) -> Any:
    async def job(tx: Tx) -> None:
        await tx.execute(UPSERT_STAT, (space_id, chat_id, now_ms - now_ms % HOUR_MS, count, now_ms))

    return job
