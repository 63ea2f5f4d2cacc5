"""Sending alert notifications: a signed webhook, or a Telegram message.

Webhooks are signed like the webhook destination (its ``sign``), per Standard Webhooks:
``webhook-id`` (the notification id, stable across retries), ``webhook-timestamp`` (the wall
clock of this attempt, Unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the
channel's ``whsec_`` secret. Telegram messages go through the Bot API ``sendMessage`` at
``settings.telegram_api_url``. A send returns an outcome; it never raises.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xtracker.alert.repository import alert_repository
from xtracker.config import Settings
from xtracker.db.engine import session_scope
from xtracker.db.models import AlertChannel, AlertNotification
from xtracker.errors import ValidationFailed
from xtracker.kit.clock import Clock
from xtracker.kit.crypto import SecretBox
from xtracker.sender.netguard import PrivateTarget, literal_ip, public_addresses
from xtracker.sender.webhook import sign

MAX_ATTEMPTS = 8
LEASE_MS = 60_000
TIMEOUT_S = 15.0
# (session, space_id) → the token of the space's connected bot, or None
BotTokenLookup = Callable[[AsyncSession, str], Awaitable[str | None]]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry_after_s: float | None = None  # None and not ok: permanent failure
    error: str | None = None


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def ensure_public_url(url: str, allow_private: bool) -> str | None:
    """Refuse localhost, private, link-local and reserved targets (unless allowed).

    Returns the checked address the request must go to (``None`` when private targets are
    allowed): connecting to the name again would resolve it again, and a name may answer a
    public address to the check and a private one to the connection (DNS rebinding).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("url must be an http(s) URL", field="url")
    if allow_private:
        return None
    host = parts.hostname
    try:
        addresses = await public_addresses(host)
    except PrivateTarget as exc:
        raise ValidationFailed(str(exc), field="url") from None
    except (OSError, TimeoutError):
        raise ValidationFailed(f"cannot resolve {host}", field="url") from None
    return addresses[0]


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``url`` sent to ``address``: the URL with the address as its host, the ``Host`` header
    and, for https, the name for SNI and certificate checks (httpx ``sni_hostname``)."""
    parts = urlsplit(url)
    name = parts.hostname or ""
    if literal_ip(name) is not None:
        return url, {}, {}
    port = f":{parts.port}" if parts.port else ""
    pinned_host = (f"[{address}]" if ":" in address else address) + port
    userinfo = parts.netloc.rpartition("@")[0]  # credentials in the URL stay with it
    netloc = f"{userinfo}@{pinned_host}" if userinfo else pinned_host
    extensions: dict[str, Any] = {"sni_hostname": name} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"host": name + port}, extensions


def message_text(payload: dict[str, Any]) -> str:
    """The Telegram message (HTML) for a notification payload."""
    data = payload["data"]
    head = {"firing": "🔴 <b>FIRING</b>", "reminder": "⏰ <b>STILL FIRING</b>",
            "resolved": "✅ <b>RESOLVED</b>"}[data["event"]]  # fmt: skip
    obj = data["object"]
    lines = [
        f"{head} · {escape(data['title'])}",
        f"{escape(data['space']['name'])} — {obj['kind']} <b>{escape(obj['name'])}</b>",
        escape(data["summary"]),
        obj["url"],
    ]
    return "\n".join(lines)


async def send_webhook(
    http: httpx.AsyncClient, url: str, secret: str, msg_id: str, body: bytes, allow_private: bool,
) -> Outcome:  # fmt: skip
    try:
        address = await ensure_public_url(url, allow_private)
    except ValidationFailed as exc:
        return Outcome(False, None, exc.message)
    target, pin_headers, extensions = (url, {}, {}) if address is None else pinned(url, address)
    ts = int(time.time())  # the wall-clock time of this attempt, as receivers check it
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
        "user-agent": "xtracker-alerts",
        **pin_headers,
    }
    try:
        r = await http.post(target, content=body, headers=headers, timeout=TIMEOUT_S,
                            extensions=extensions)  # fmt: skip
    except httpx.HTTPError as exc:
        return Outcome(False, 30.0, f"{type(exc).__name__}: {exc}")
    if 200 <= r.status_code < 300:
        return Outcome(True)
    if r.status_code in (408, 429) or r.status_code >= 500:
        return Outcome(False, _retry_after(r) or 30.0, f"HTTP {r.status_code}")
    return Outcome(False, None, f"HTTP {r.status_code}")


def _retry_after(r: httpx.Response) -> float | None:
    try:
        return float(r.headers.get("retry-after", ""))
    except ValueError:
        return None


async def send_telegram(
    http: httpx.AsyncClient, api_url: str, token: str, chat_id: str, text: str
) -> Outcome:
    url = f"{api_url.rstrip('/')}/bot{token}/sendMessage"
    chat: int | str = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
    body = {"chat_id": chat, "text": text, "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True}}  # fmt: skip
    try:
        r = await http.post(url, json=body, timeout=TIMEOUT_S)
        answer = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        return Outcome(False, 30.0, f"Telegram unreachable: {type(exc).__name__}")
    if isinstance(answer, dict) and answer.get("ok"):
        return Outcome(True)
    answer = answer if isinstance(answer, dict) else {}
    description = str(answer.get("description", f"HTTP {r.status_code}"))
    retry = (answer.get("parameters") or {}).get("retry_after")
    if retry is not None:
        return Outcome(False, float(retry), description)
    if r.status_code >= 500:
        return Outcome(False, 30.0, description)
    return Outcome(False, None, description)


def backoff_s(attempts: int) -> float:
    """30 s, 1 min, 2 min … capped at an hour."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 3600))


async def _send(
    session: AsyncSession, n: AlertNotification, channel: AlertChannel | None,
    http: httpx.AsyncClient, box: SecretBox, settings: Settings, now_ms: int,
    bot_token: BotTokenLookup | None,
) -> Outcome:  # fmt: skip
    if channel is None or not channel.active:
        return Outcome(False, None, "the channel was removed or turned off")
    if channel.kind == "webhook":
        secret = box.decrypt(channel.secret_enc or "")
        body = orjson.dumps(n.payload)
        return await send_webhook(http, str(channel.config["url"]), secret, n.id, body,
                                  settings.allow_private_targets)  # fmt: skip
    token = box.decrypt(channel.secret_enc) if channel.secret_enc else None
    if token is None and bot_token is not None:
        token = await bot_token(session, channel.space_id)
    if not token:
        return Outcome(False, None, "the space has no connected Telegram bot")
    return await send_telegram(http, settings.telegram_api_url, token,
                               str(channel.config["chat_id"]), message_text(n.payload))  # fmt: skip


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    box: SecretBox,
    clock: Clock,
    settings: Settings,
    bot_token: BotTokenLookup | None = None,
) -> int:
    """``alert.notify``: send every due notification once; returns how many were sent."""
    now_ms = clock.now_ms()
    async with session_scope(sessions) as session:
        due = [n.id for n in await alert_repository.due_notifications(session, now_ms)]
    sent = 0
    for notification_id in due:
        async with session_scope(sessions) as session:
            if not await alert_repository.claim(session, notification_id, now_ms, LEASE_MS):
                continue
        async with session_scope(sessions) as session:
            n = await session.get(AlertNotification, notification_id)
            if n is None:
                continue
            channel = await session.get(AlertChannel, n.channel_id)
            outcome = await _send(session, n, channel, http, box, settings, now_ms, bot_token)
            n.attempts += 1
            n.lease_until_ms = None
            if outcome.ok:
                n.status, n.sent_at_ms, n.last_error = "sent", clock.now_ms(), None
                sent += 1
            elif outcome.retry_after_s is not None and n.attempts < MAX_ATTEMPTS:
                delay = max(outcome.retry_after_s, backoff_s(n.attempts))
                n.next_attempt_at_ms = now_ms + int(delay * 1000)
                n.last_error = outcome.error
            else:
                n.status, n.last_error = "failed", outcome.error
    return sent
