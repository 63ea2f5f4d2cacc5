"""Alert rules, the evaluator and the alerts panel.

Semantics follow Prometheus/Alertmanager: a condition that holds starts a ``pending``
episode; held for ``for_evaluations`` evaluations in a row it turns ``firing`` (one
notification per channel); while firing a reminder goes out at most every
``reminder_hours``; when it no longer holds the episode is ``resolved`` (one notification)
and kept as history. A pending episode that clears is dropped without a word.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xtracker.alert import schemas
from xtracker.alert.notify import ensure_public_url, new_secret
from xtracker.alert.repository import alert_repository
from xtracker.alert.rules import RULES, Finding, defaults
from xtracker.config import Settings
from xtracker.db.engine import session_scope
from xtracker.db.models import Alert, AlertChannel, AlertNotification, AlertRule, Space
from xtracker.errors import NotFound, ValidationFailed
from xtracker.kit.clock import Clock
from xtracker.kit.crypto import SecretBox
from xtracker.kit.ids import new_uid
from xtracker.space.service import space_service

log = logging.getLogger("xtracker.alert")
HOUR_MS = 3_600_000


def effective(kind: str, row: AlertRule | None) -> tuple[bool, dict[str, Any]]:
    params = defaults(kind)
    if row is None:
        return True, params
    params.update({k: v for k, v in (row.params or {}).items() if k in params})
    return row.enabled, params


def rule_schema(kind: str, row: AlertRule | None) -> schemas.Rule:
    spec = RULES[kind]
    enabled, params = effective(kind, row)
    return schemas.Rule(
        kind=kind, title=spec.title, description=spec.description,
        object_kind=spec.object_kind, enabled=enabled, params=params, defaults=defaults(kind),
        edited=row is not None,
    )  # fmt: skip


def _check_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    allowed = defaults(kind)
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in allowed:
            raise ValidationFailed(
                f"{kind} has no threshold {key!r}; it has {', '.join(sorted(allowed))}",
                field=f"params.{key}",
            )
        default = allowed[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValidationFailed(f"{key} must be true or false", field=f"params.{key}")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValidationFailed(f"{key} must be a number ≥ 0", field=f"params.{key}")
        elif isinstance(default, int) and key != "reminder_hours" and value != int(value):
            raise ValidationFailed(f"{key} must be a whole number", field=f"params.{key}")
        out[key] = value
    if "for_evaluations" in out and out["for_evaluations"] < 1:
        raise ValidationFailed("for_evaluations must be at least 1", field="params.for_evaluations")
    return out


def object_urls(
    space_slug: str, kind: str, object_id: str, name: str, public_url: str
) -> tuple[str, str]:
    base = public_url.rstrip("/")
    if kind == "link":
        return f"{base}/s/{space_slug}/links/{name}", f"{base}/api/spaces/{space_slug}/links/{name}"
    if kind == "destination":
        return (f"{base}/s/{space_slug}/destinations/{object_id}",
                f"{base}/api/spaces/{space_slug}/destinations/{object_id}")  # fmt: skip
    return f"{base}/s/{space_slug}/domains", f"{base}/api/spaces/{space_slug}/domains/{name}"


def alert_schema(alert: Alert, space_slug: str, public_url: str) -> schemas.Alert:
    url, api_url = object_urls(
        space_slug, alert.object_kind, alert.object_id, alert.object_name, public_url
    )
    spec = RULES.get(alert.rule)
    return schemas.Alert(
        id=alert.id, rule=alert.rule, title=spec.title if spec else alert.rule,
        state=alert.state,
        object=schemas.AlertObject(kind=alert.object_kind, id=alert.object_id,
                                   name=alert.object_name, url=url, api_url=api_url),
        summary=alert.summary, details=alert.details or {}, started_at_ms=alert.started_at_ms,
        fired_at_ms=alert.fired_at_ms, resolved_at_ms=alert.resolved_at_ms,
        last_eval_at_ms=alert.last_eval_at_ms, reminders=alert.reminders,
    )  # fmt: skip


def channel_schema(channel: AlertChannel) -> schemas.Channel:
    config = channel.config or {}
    return schemas.Channel(
        id=channel.id, kind=channel.kind, name=channel.name, url=config.get("url"),
        chat_id=config.get("chat_id"), own_bot=channel.kind == "telegram" and bool(channel.secret_enc),
        active=channel.active, created_at_ms=channel.created_at_ms,
    )  # fmt: skip


def payload(alert: Alert, event: str, space: Space, public_url: str, now_ms: int) -> dict[str, Any]:
    """The notification body (Standard Webhooks' recommended ``type/timestamp/data`` shape)."""
    data = alert_schema(alert, space.slug, public_url).model_dump(mode="json")
    data["space"] = {"id": space.id, "slug": space.slug, "name": space.name}
    data["event"] = event
    return {
        "type": f"alert.{event}",
        "timestamp": datetime.fromtimestamp(now_ms / 1000, UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


class AlertService:
    # -- rules -----------------------------------------------------------------------------
    async def rules(self, session: AsyncSession, space_id: str) -> list[schemas.Rule]:
        rows = await alert_repository.rules(session, space_id)
        return [rule_schema(kind, rows.get(kind)) for kind in RULES]

    async def update_rule(
        self, session: AsyncSession, space_id: str, kind: str, data: schemas.RuleUpdate, now_ms: int
    ) -> schemas.Rule:
        if kind not in RULES:
            raise NotFound(f"no rule {kind!r}; rules are {', '.join(RULES)}")
        params = _check_params(kind, data.params or {})
        row = (await alert_repository.rules(session, space_id)).get(kind)
        if row is None:
            row = AlertRule(id=new_uid(now_ms), space_id=space_id, kind=kind, enabled=True,
                            params={}, updated_at_ms=now_ms)  # fmt: skip
            session.add(row)
        if data.reset:
            row.enabled, row.params = True, {}
        if data.enabled is not None:
            row.enabled = data.enabled
        row.params = {**(row.params or {}), **params}
        row.updated_at_ms = now_ms
        await session.flush()
        return rule_schema(kind, row)

    # -- channels ----------------------------------------------------------------------------
    async def channels(self, session: AsyncSession, space_id: str) -> list[schemas.Channel]:
        return [channel_schema(c) for c in await alert_repository.channels(session, space_id)]

    async def add_channel(
        self, session: AsyncSession, space_id: str, data: schemas.ChannelCreate,
        box: SecretBox, settings: Settings, now_ms: int,
    ) -> schemas.ChannelCreated:  # fmt: skip
        channel = AlertChannel(id=new_uid(now_ms), space_id=space_id, kind=data.kind,
                               active=True, created_at_ms=now_ms)  # fmt: skip
        secret = None
        if data.kind == "webhook":
            if not data.url:
                raise ValidationFailed("a webhook channel needs a url", field="url")
            await ensure_public_url(data.url, settings.allow_private_targets)
            secret = new_secret()
            channel.config = {"url": data.url}
            channel.secret_enc = box.encrypt(secret)
            channel.name = data.name or (urlsplit(data.url).hostname or "webhook")
        else:
            chat = str(data.chat_id or "").strip()
            if not re.fullmatch(r"-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}", chat):
                raise ValidationFailed("chat_id must be a chat id or @channelname", field="chat_id")
            channel.config = {"chat_id": chat}
            if data.bot_token:
                if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", data.bot_token.strip()):
                    raise ValidationFailed("bot_token is not a Telegram bot token",
                                           field="bot_token")  # fmt: skip
                channel.secret_enc = box.encrypt(data.bot_token.strip())
            channel.name = data.name or f"Telegram {chat}"
        session.add(channel)
        await session.flush()
        return schemas.ChannelCreated(**channel_schema(channel).model_dump(), secret=secret)

    async def remove_channel(self, session: AsyncSession, space_id: str, channel_id: str) -> None:
        channel = await session.get(AlertChannel, channel_id)
        if channel is None or channel.space_id != space_id:
            raise NotFound(f"no alert channel {channel_id!r} in this space")
        await alert_repository.delete_channel_notifications(session, channel_id)
        await session.delete(channel)
        await session.flush()

    # -- the alerts panel --------------------------------------------------------------------
    async def overview(
        self, session: AsyncSession, space: Space, public_url: str, history: int = 50
    ) -> schemas.AlertList:
        open_ = sorted(await alert_repository.open_alerts(session, space.id),
                       key=lambda a: a.started_at_ms, reverse=True)  # fmt: skip
        done = await alert_repository.recent(session, space.id, history)
        render = [alert_schema(a, space.slug, public_url) for a in open_]
        return schemas.AlertList(
            firing=[a for a in render if a.state == "firing"],
            pending=[a for a in render if a.state == "pending"],
            history=[alert_schema(a, space.slug, public_url) for a in done],
        )

    # -- evaluation --------------------------------------------------------------------------
    async def evaluate_space(
        self, session: AsyncSession, space: Space, settings: Settings, now_ms: int
    ) -> schemas.EvalReport:
        report = schemas.EvalReport(spaces=1)
        overrides = await alert_repository.rules(session, space.id)
        open_by_key = {a.open_key: a for a in await alert_repository.open_alerts(session, space.id)}
        channels = await alert_repository.channels(session, space.id, active_only=True)
        for kind, spec in RULES.items():
            enabled, params = effective(kind, overrides.get(kind))
            findings: list[Finding] = []
            if enabled:
                findings = await spec.condition(session, space.id, params, now_ms)
            report.findings += len(findings)
            seen_keys = set()
            for finding in findings:
                key = f"{space.id}:{kind}:{finding.object_kind}:{finding.object_id}"
                seen_keys.add(key)
                alert = open_by_key.pop(key, None)
                await self._holds(session, space, alert, key, kind, finding, params, channels,
                                  settings, now_ms, report)  # fmt: skip
            for key in [k for k in open_by_key if k and k.startswith(f"{space.id}:{kind}:")]:
                alert = open_by_key.pop(key)
                await self._clears(session, space, alert, channels, settings, now_ms, report)
        for alert in open_by_key.values():  # rules that no longer exist
            await self._clears(session, space, alert, channels, settings, now_ms, report)
        await session.flush()
        return report

    async def _holds(
        self, session: AsyncSession, space: Space, alert: Alert | None, key: str, kind: str,
        finding: Finding, params: dict[str, Any], channels: Sequence[AlertChannel],
        settings: Settings, now_ms: int, report: schemas.EvalReport,
    ) -> None:  # fmt: skip
        if alert is None:
            alert = Alert(
                id=new_uid(now_ms), space_id=space.id, rule=kind, object_kind=finding.object_kind,
                object_id=finding.object_id, object_name=finding.object_name[:255], open_key=key,
                state="pending", streak=0, summary="", details={}, started_at_ms=now_ms,
                last_eval_at_ms=now_ms, reminders=0,
            )  # fmt: skip
            session.add(alert)
        elif now_ms - alert.last_eval_at_ms < settings.alert_eval_interval_s * 500:
            # another worker evaluated this space moments ago: that evaluation counts, not ours
            return
        alert.streak += 1
        alert.summary, alert.details = finding.summary, finding.details
        alert.object_name = finding.object_name[:255]
        alert.last_eval_at_ms = now_ms
        if alert.state == "pending" and alert.streak >= int(params["for_evaluations"]):
            alert.state, alert.fired_at_ms = "firing", now_ms
            report.fired += 1
            await self._notify(session, space, alert, "firing", 0, channels, settings, now_ms)
        elif alert.state == "firing":
            every = float(params["reminder_hours"]) * HOUR_MS
            last = alert.last_notified_at_ms or alert.fired_at_ms or now_ms
            if every > 0 and now_ms - last >= every:
                alert.reminders += 1
                report.reminders += 1
                await self._notify(session, space, alert, "reminder", alert.reminders, channels,
                                   settings, now_ms)  # fmt: skip

    async def _clears(
        self, session: AsyncSession, space: Space, alert: Alert,
        channels: Sequence[AlertChannel], settings: Settings, now_ms: int,
        report: schemas.EvalReport,
    ) -> None:  # fmt: skip
        if alert.state == "pending":
            await session.delete(alert)
            return
        alert.state, alert.resolved_at_ms, alert.open_key = "resolved", now_ms, None
        alert.last_eval_at_ms = now_ms
        report.resolved += 1
        await self._notify(session, space, alert, "resolved", 0, channels, settings, now_ms)

    async def _notify(
        self, session: AsyncSession, space: Space, alert: Alert, event: str, seq: int,
        channels: Sequence[AlertChannel], settings: Settings, now_ms: int,
    ) -> None:  # fmt: skip
        alert.last_notified_at_ms = now_ms
        body = payload(alert, event, space, settings.public_url, now_ms)
        for channel in channels:
            session.add(AlertNotification(
                id=new_uid(now_ms), space_id=space.id, alert_id=alert.id, channel_id=channel.id,
                event=event, dedup=f"{alert.id}:{channel.id}:{event}:{seq}", payload=body,
                status="pending", attempts=0, next_attempt_at_ms=now_ms, created_at_ms=now_ms,
            ))  # fmt: skip


alert_service = AlertService()


async def _space_lock(session: AsyncSession, space_id: str) -> bool:
    """PostgreSQL: one evaluator per space at a time, across processes (released at commit).
    SQLite has no such lock: two processes may both find no open alert and both open one;
    the unique ``open_key`` refuses the second, which leaves the space to the first
    (``_lost_the_race``)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = int.from_bytes(
        hashlib.sha256(f"alert:{space_id}".encode()).digest()[:8], "big", signed=True
    )
    result = await session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key})
    return bool(result.scalar())


def _lost_the_race(error: IntegrityError) -> bool:
    """Another process opened the same alert in the same minute (SQLite, several workers)."""
    return "open_key" in str(error.orig)


async def evaluate(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> schemas.EvalReport:
    """``alert.evaluate``: every space's rules once, at ``clock.now_ms()``."""
    now_ms = clock.now_ms()
    total = schemas.EvalReport()
    async with session_scope(sessions) as session:
        spaces = list(await space_service.list(session))
    for space in spaces:
        try:
            async with session_scope(sessions) as session:
                if not await _space_lock(session, space.id):
                    continue  # another worker is evaluating this space right now
                report = await alert_service.evaluate_space(session, space, settings, now_ms)
        except IntegrityError as exc:
            if not _lost_the_race(exc):
                log.exception("alert evaluation failed for space %s", space.id)
            continue  # rolled back: the worker that opened it evaluated this space
        except Exception:  # a database hiccup: next minute
            log.exception("alert evaluation failed for space %s", space.id)
            continue
        for name in ("spaces", "findings", "fired", "resolved", "reminders"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
    return total
