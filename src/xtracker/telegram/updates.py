"""What one Bot API update does, as one ``GroupCommitter`` job (one transaction).

The update id is recorded first (``ON CONFLICT DO NOTHING``): a repeat changes nothing. A
``chat_join_request`` through one of our invite links maps the link → uid, binds the user's
tg_id, ingests ``subscribed`` through the normal write path (eid derived from the join, so
it is recorded once), and schedules the welcome drip and the approval; a join request
without a known invite link is recorded as organic. ``chat_member`` updates are joins and
leaves for the channel stats.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from xtracker.binding.bind import bind_job
from xtracker.db.dialect import Tx
from xtracker.errors import AlreadyBound
from xtracker.event.ingest import ingest_job
from xtracker.event.parse import EventIn
from xtracker.kit.ids import new_uid
from xtracker.telegram import repository as repo

log = logging.getLogger("xtracker.telegram")

MEMBER_STATUSES = ("member", "administrator", "creator")


@dataclass
class UpdateOutcome:
    status: str  # processed | duplicate | ignored
    kind: str | None = None
    attributed: bool = False
    uid: str | None = None
    event: dict[str, Any] | None = None
    actions: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "kind": self.kind, "attributed": self.attributed,
                "uid": self.uid, "event": self.event, "actions": self.actions,
                "notes": self.notes}  # fmt: skip


def is_member(member: Any) -> bool:
    if not isinstance(member, dict):
        return False
    status = member.get("status")
    if status == "restricted":
        return bool(member.get("is_member"))
    return status in MEMBER_STATUSES


def join_eid(chat_id: int, user_id: int) -> str:
    """The ``subscribed`` event's eid: one per user and channel, so repeats are duplicates."""
    return f"tg-join:{chat_id}:{user_id}"


def handle_update_job(bot_id: str, space_id: str, update: dict[str, Any], now_ms: int) -> Any:
    async def job(tx: Tx) -> UpdateOutcome:
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            return UpdateOutcome("ignored", notes=["update without update_id"])
        fresh = await tx.fetchone(repo.INSERT_UPDATE, (bot_id, update_id, now_ms))
        if fresh is None:
            return UpdateOutcome("duplicate")
        request, member = update.get("chat_join_request"), update.get("chat_member")
        if isinstance(request, dict) and _ids(request) is not None:
            return await _join_request(tx, bot_id, space_id, request, now_ms)
        if isinstance(member, dict) and _ids(member) is not None:
            return await _chat_member(tx, space_id, member, now_ms)
        kind = next((k for k in update if k != "update_id"), None)
        return UpdateOutcome("ignored", kind=kind)

    return job


def _ids(payload: dict[str, Any]) -> tuple[int, int] | None:
    """(chat id, user id) of a well-formed update; None lets a malformed one be skipped
    (answered 200, so Telegram does not retry it forever)."""
    try:
        return int(payload["chat"]["id"]), int(payload["from"]["id"])
    except (KeyError, TypeError, ValueError):
        return None


async def _join_request(
    tx: Tx, bot_id: str, space_id: str, request: dict[str, Any], now_ms: int
) -> UpdateOutcome:
    chat_id = int(request["chat"]["id"])
    user_id = int(request["from"]["id"])
    user_chat_id = int(request.get("user_chat_id") or user_id)
    date_ms = int(request.get("date") or now_ms // 1000) * 1000
    outcome = UpdateOutcome("processed", kind="chat_join_request")
    if await tx.fetchone(repo.SELECT_CHANNEL, (space_id, chat_id)) is None:
        outcome.status = "ignored"
        outcome.notes.append(f"chat {chat_id} is not a channel of this space")
        return outcome
    raw_link = (request.get("invite_link") or {}).get("invite_link")
    invite = None
    if isinstance(raw_link, str) and not raw_link.endswith("…"):
        invite = await tx.fetchone(repo.SELECT_INVITE, (raw_link, space_id))
    link_id = uid = None
    if invite is not None and invite[2] is not None:
        invite_id, link_id, uid, _status = invite
        await tx.execute(repo.USE_INVITE, (now_ms, invite_id))
    join_id = new_uid(now_ms)
    await tx.execute(
        repo.INSERT_MEMBER_EVENT,
        (join_id, space_id, chat_id, user_id, "join_request", uid is None, link_id, uid,
         raw_link if isinstance(raw_link, str) else None, date_ms),
    )  # fmt: skip
    if uid is None or link_id is None:
        outcome.notes.append("organic: no invite link of a visit")
        return outcome
    outcome.attributed, outcome.uid = True, uid
    try:
        await bind_job(space_id, uid, user_id, now_ms)(tx)
    except AlreadyBound:  # the invite link was passed on: attribute the join, keep the bind
        outcome.notes.append("uid already bound to another Telegram user")
    event = EventIn("subscribed", uid, user_id, None, "USD", join_eid(chat_id, user_id),
                    date_ms, source="telegram")  # fmt: skip
    results = await ingest_job(space_id, [event], now_ms)(tx)
    outcome.event = results[0]
    steps: list[Any] = []
    if results[0]["status"] == "duplicate":  # the same user asked again: greet them once
        outcome.notes.append("subscribed already recorded for this user")
    else:
        steps = await tx.fetchall(repo.SELECT_DRIP, (link_id,))
    approve_row = await tx.fetchone(repo.SELECT_AUTO_APPROVE, (link_id,))
    rows = []
    due = now_ms
    for position, (delay_s, text, button_text, button_url) in enumerate(steps):
        due += int(delay_s) * 1000
        rows.append((new_uid(now_ms), space_id, bot_id, join_id, "message", position * 2,
                     chat_id, user_id, user_chat_id, text, button_text, button_url, due, now_ms))  # fmt: skip
    if approve_row is not None and approve_row[0]:
        # After the first message: Telegram lets the bot write to user_chat_id only until
        # the request is processed.
        first_due = rows[0][12] if rows else now_ms
        rows.append((new_uid(now_ms), space_id, bot_id, join_id, "approve", 1, chat_id,
                     user_id, user_chat_id, None, None, None, first_due, now_ms))  # fmt: skip
    if rows:
        await tx.executemany(repo.INSERT_ACTION, rows)
    outcome.actions = len(rows)
    return outcome


async def _chat_member(tx: Tx, space_id: str, update: dict[str, Any], now_ms: int) -> UpdateOutcome:
    chat_id = int(update["chat"]["id"])
    outcome = UpdateOutcome("processed", kind="chat_member")
    if await tx.fetchone(repo.SELECT_CHANNEL, (space_id, chat_id)) is None:
        outcome.status = "ignored"
        return outcome
    old, new = update.get("old_chat_member"), update.get("new_chat_member")
    was, now = is_member(old), is_member(new)
    if was == now:
        outcome.status = "ignored"
        outcome.notes.append("no membership change")
        return outcome
    user = (new or {}).get("user") or update.get("from") or {}
    raw_link = (update.get("invite_link") or {}).get("invite_link")
    link_id = uid = None
    if now and isinstance(raw_link, str) and not raw_link.endswith("…"):
        invite = await tx.fetchone(repo.SELECT_INVITE, (raw_link, space_id))
        if invite is not None:
            link_id, uid = invite[1], invite[2]
    if now and uid is None and user.get("id"):  # approved join requests come without the link
        request = await tx.fetchone(repo.SELECT_LAST_REQUEST, (space_id, chat_id, int(user["id"])))
        if request is not None:
            link_id, uid = request
    date_ms = int(update.get("date") or now_ms // 1000) * 1000
    await tx.execute(
        repo.INSERT_MEMBER_EVENT,
        (new_uid(now_ms), space_id, chat_id, int(user.get("id") or 0), "join" if now else "leave",
         uid is None, link_id, uid, raw_link if isinstance(raw_link, str) else None, date_ms),
    )  # fmt: skip
    outcome.kind = "join" if now else "leave"
    outcome.attributed, outcome.uid = uid is not None, uid
    return outcome
