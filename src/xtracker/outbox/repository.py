"""Outbox SQL on the hot path (``Tx``, ``?`` placeholders) — claim, load, record, circuits.

The one SQLite-vs-PostgreSQL fork of delivery is in ``claim_sql``: PostgreSQL claims with
``FOR UPDATE SKIP LOCKED`` so any number of workers share the queue; SQLite has one writer
at a time (every claim runs inside ``BEGIN IMMEDIATE``, see ``db.dialect.SqliteBackend``),
so the same statement without the locking clause is already exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from xtracker.db.dialect import Tx
from xtracker.db.models.click import CAMPAIGN_FIELDS
from xtracker.kit.ids import new_uid
from xtracker.sender.base import Dispatch

ACTIVE = ("pending", "retrying")

RETURN_EXPIRED = (
    "UPDATE event_outbox SET status = CASE WHEN attempts = 0 THEN 'pending' ELSE 'retrying' END,"
    " lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = ?"
    " WHERE status = 'sending' AND lease_until_ms <= ?"
)
CLAIM_SET = (
    "UPDATE event_outbox SET status = 'sending', lease_owner = ?, lease_until_ms = ?,"
    " updated_at_ms = ? WHERE id IN ({select}) RETURNING id"
)
# One status at a time, so the (status, next_attempt_at_ms) index yields rows already in
# order: no sort of the whole backlog on every claim after an outage.
DUE = (
    "SELECT id FROM event_outbox WHERE status = ? AND next_attempt_at_ms <= ?"
    " AND destination_id NOT IN (SELECT destination_id FROM destination_circuit"
    " WHERE state <> 'closed')"
    " AND destination_id NOT IN (SELECT id FROM destination WHERE active = ?)"
    " ORDER BY next_attempt_at_ms LIMIT ?"
)
PROBE = (
    "SELECT id FROM event_outbox WHERE destination_id = ? AND status IN ('pending', 'retrying')"
    " ORDER BY next_attempt_at_ms LIMIT 1"
)
OPEN_TO_HALF_OPEN = (
    "UPDATE destination_circuit SET state = 'half_open', probe_at_ms = ?, updated_at_ms = ?"
    " WHERE state <> 'closed' AND probe_at_ms <= ? RETURNING destination_id"
)
CLOSE_CIRCUIT = (
    "UPDATE destination_circuit SET state = 'closed', consecutive_failures = 0,"
    " times_opened = 0, probe_at_ms = NULL, updated_at_ms = ? WHERE destination_id = ?"
)
LOAD = (
    "SELECT o.id, o.space_id, o.destination_id, o.event_id, o.event_name, o.attempts,"
    " i.canonical, i.uid, i.tg_id, i.eid, i.occurred_at_ms, i.value_cents, i.currency,"
    " c.ip, c.user_agent, c.fbclid, c.fbc, c.fbp, c.country, c.raw_query, c.host, l.slug, "
    + ", ".join(f"c.{name}" for name in CAMPAIGN_FIELDS)
    + " FROM event_outbox o JOIN event_inbox i ON i.id = o.inbox_id"
    " LEFT JOIN click c ON c.uid = i.uid AND c.space_id = i.space_id"
    " LEFT JOIN link l ON l.id = c.link_id"
    " WHERE o.id IN ({ids})"
)
CLICK_KEYS = ("ip", "user_agent", "fbclid", "fbc", "fbp", "country", "raw_query", "host",
              "link_slug", *CAMPAIGN_FIELDS)  # fmt: skip
LOAD_DESTINATIONS = (
    "SELECT id, kind, config, secret_enc, proxy_url, updated_at_ms FROM destination"
    " WHERE id IN ({ids})"
)
RECORD = (
    "UPDATE event_outbox SET status = ?, attempts = ?, next_attempt_at_ms = ?,"
    " lease_until_ms = NULL, lease_owner = NULL, last_status_code = ?, last_error = ?,"
    " updated_at_ms = ?, sent_at_ms = ? WHERE id = ? AND lease_owner = ?"
)
INSERT_ATTEMPT = (
    "INSERT INTO delivery_attempt (id, outbox_id, space_id, destination_id, attempt, at_ms,"
    " outcome, status_code, latency_ms, error, response_excerpt, worker)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_CIRCUIT = (
    "SELECT state, consecutive_failures, times_opened, probe_at_ms FROM destination_circuit"
    " WHERE destination_id = ?"
)
UPSERT_CIRCUIT = (
    "INSERT INTO destination_circuit (destination_id, state, consecutive_failures,"
    " times_opened, probe_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (destination_id) DO UPDATE SET state = excluded.state,"
    " consecutive_failures = excluded.consecutive_failures,"
    " times_opened = excluded.times_opened, probe_at_ms = excluded.probe_at_ms,"
    " updated_at_ms = excluded.updated_at_ms"
)


def claim_sql(dialect: str, select: str) -> str:
    """The dialect fork: lock the selected rows on PostgreSQL, skipping ones others hold."""
    if dialect == "postgresql":
        select += " FOR UPDATE SKIP LOCKED"
    return CLAIM_SET.format(select=select)


def placeholders(n: int) -> str:
    return ", ".join("?" * n)


@dataclass(frozen=True)
class Claimed:
    ids: list[str]
    probes: set[str]  # outbox ids sent as a half-open circuit's probe


async def return_expired(tx: Tx, now_ms: int) -> None:
    await tx.execute(RETURN_EXPIRED, (now_ms, now_ms))


async def claim(tx: Tx, owner: str, now_ms: int, lease_until_ms: int, limit: int) -> Claimed:
    probes: set[str] = set()
    for (destination_id,) in await tx.fetchall(OPEN_TO_HALF_OPEN, (lease_until_ms, now_ms, now_ms)):
        row = await tx.fetchone(
            claim_sql(tx.dialect, PROBE), (owner, lease_until_ms, now_ms, destination_id)
        )
        if row is None:  # nothing waiting: nothing to protect
            await tx.execute(CLOSE_CIRCUIT, (now_ms, destination_id))
        else:
            probes.add(str(row[0]))
    ids: list[str] = []
    # retries get up to half of a claim, new events the rest, retries again any room left
    for status, share in (("retrying", limit // 2), ("pending", limit), ("retrying", limit)):
        want = min(share, limit - len(ids))
        if want <= 0:
            continue
        rows = await tx.fetchall(
            claim_sql(tx.dialect, DUE),
            (owner, lease_until_ms, now_ms, status, now_ms, False, want),
        )
        ids.extend(str(r[0]) for r in rows)
    return Claimed(ids + sorted(probes), probes)


async def load(tx: Tx, ids: list[str]) -> list[Dispatch]:
    if not ids:
        return []
    rows = await tx.fetchall(LOAD.format(ids=placeholders(len(ids))), ids)
    out: list[Dispatch] = []
    for row in rows:
        click = {k: v for k, v in zip(CLICK_KEYS, row[13:], strict=True) if v is not None}
        out.append(
            Dispatch(
                outbox_id=row[0],
                space_id=row[1],
                destination_id=row[2],
                event_id=row[3],
                event_name=row[4],
                attempts=int(row[5]),
                canonical=row[6],
                uid=row[7],
                tg_id=row[8],
                eid=row[9],
                occurred_at_ms=int(row[10]),
                value_cents=row[11],
                currency=row[12],
                click=click,
            )
        )
    return out


async def fail_orphans(tx: Tx, ids: set[str], now_ms: int) -> None:
    await tx.executemany(
        "UPDATE event_outbox SET status = 'failed_permanently', last_error = 'event not found',"
        " lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = ? WHERE id = ?",
        [(now_ms, outbox_id) for outbox_id in sorted(ids)],
    )


async def load_destinations(tx: Tx, ids: list[str]) -> list[tuple[Any, ...]]:
    if not ids:
        return []
    return await tx.fetchall(LOAD_DESTINATIONS.format(ids=placeholders(len(ids))), ids)


@dataclass(frozen=True)
class Result:
    """The decided end of one attempt, ready to be written."""

    dispatch: Dispatch
    owner: str
    status: str  # sent | retrying | failed_permanently
    outcome: str  # sent | retry | failed
    next_attempt_at_ms: int
    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str | None
    at_ms: int
    transient: bool  # counts against the circuit
    reachable: bool  # the endpoint answered: closes the circuit
    probe: bool


async def record(tx: Tx, results: list[Result], circuit: Any) -> None:
    """Write outcomes and attempts, then move each touched destination's circuit."""
    if not results:
        return
    await tx.executemany(
        RECORD,
        [
            (r.status, r.dispatch.attempts + 1, r.next_attempt_at_ms, r.status_code, r.error,
             r.at_ms, r.at_ms if r.status == "sent" else None, r.dispatch.outbox_id, r.owner)
            for r in results
        ],
    )  # fmt: skip
    await tx.executemany(
        INSERT_ATTEMPT,
        [
            (new_uid(r.at_ms), r.dispatch.outbox_id, r.dispatch.space_id, r.dispatch.destination_id,
             r.dispatch.attempts + 1, r.at_ms, r.outcome, r.status_code, r.latency_ms, r.error,
             r.excerpt, r.owner)
            for r in results
        ],
    )  # fmt: skip
    by_destination: dict[str, list[Result]] = {}
    for r in results:
        if r.transient or r.reachable:
            by_destination.setdefault(r.dispatch.destination_id, []).append(r)
    for destination_id in sorted(by_destination):  # one lock order for every worker
        await _move_circuit(tx, destination_id, by_destination[destination_id], circuit)


async def _move_circuit(tx: Tx, destination_id: str, items: list[Result], policy: Any) -> None:
    # PostgreSQL: lock the row so two workers recording at once do not lose a failure
    lock = " FOR UPDATE" if tx.dialect == "postgresql" else ""
    row = await tx.fetchone(SELECT_CIRCUIT + lock, (destination_id,))
    state, failures, opened, probe_at = row if row else ("closed", 0, 0, None)
    now = items[-1].at_ms
    before = (state, failures, opened, probe_at)
    for r in items:
        if r.reachable:
            state, failures, opened, probe_at = "closed", 0, 0, None
            continue
        failures += 1
        if (state == "half_open" and r.probe) or (
            state == "closed" and failures >= policy.threshold
        ):
            opened += 1
            state, probe_at = "open", now + policy.pause_ms(opened)
    if (state, failures, opened, probe_at) != before:
        await tx.execute(UPSERT_CIRCUIT, (destination_id, state, failures, opened, probe_at, now))


def parse_config(raw: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    value: dict[str, Any] = orjson.loads(raw)
    return value
