"""Real-time monitoring (SPEC §9): rule overrides, alert episodes, channels, notifications."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base, JSONText


class AlertRule(Base):
    """A space's edits to one rule; a rule without a row runs with its defaults."""

    __tablename__ = "alert_rule"
    __table_args__ = (Index(None, "space_id", "kind", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class Alert(Base):
    """One episode of one rule on one object: pending → firing → resolved.

    ``open_key`` is ``space:rule:object`` while the episode is open and NULL once resolved,
    so there is at most one open episode per (space, rule, object) on both databases.
    """

    __tablename__ = "alert"
    __table_args__ = (Index(None, "space_id", "started_at_ms"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(32))
    object_kind: Mapped[str] = mapped_column(String(16))  # link | destination | domain
    object_id: Mapped[str] = mapped_column(String(64))
    object_name: Mapped[str] = mapped_column(String(255), default="")
    open_key: Mapped[str | None] = mapped_column(String(160), nullable=True, unique=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | firing | resolved
    streak: Mapped[int] = mapped_column(Integer, default=1)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    last_eval_at_ms: Mapped[int] = mapped_column(BigInteger)
    fired_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resolved_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_notified_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reminders: Mapped[int] = mapped_column(Integer, default=0)


class AlertChannel(Base):
    """Where a space's alerts go: a signed webhook or a Telegram chat."""

    __tablename__ = "alert_channel"
    __table_args__ = (Index(None, "space_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # webhook | telegram
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)  # url | chat_id
    secret_enc: Mapped[str | None] = mapped_column(Text, nullable=True)  # whsec_ / bot token
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class AlertNotification(Base):
    """One message about one alert to one channel, written with the state change.

    The unique ``dedup`` (alert, channel, event, reminder number) makes "exactly one
    notification on fire and one on resolve" hold even when two workers evaluate at once.
    """

    __tablename__ = "alert_notification"
    __table_args__ = (Index(None, "status", "next_attempt_at_ms"), Index(None, "alert_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    alert_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(16))  # firing | reminder | resolved
    dedup: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONText)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at_ms: Mapped[int] = mapped_column(BigInteger)
    lease_until_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    sent_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
