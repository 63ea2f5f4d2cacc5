from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class EventInbox(Base):
    """Every accepted event, once: the dedup key is unique."""

    __tablename__ = "event_inbox"
    __table_args__ = (
        Index(None, "space_id", "received_at_ms"),
        Index(None, "space_id", "uid"),
        Index(None, "space_id", "tg_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    canonical: Mapped[str] = mapped_column(String(16))
    uid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tg_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    link_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    eid: Mapped[str | None] = mapped_column(String(255), nullable=True)
    occurred_at_ms: Mapped[int] = mapped_column(BigInteger)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)
    value_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source: Mapped[str] = mapped_column(String(16), default="api")  # api | postback | telegram


class EventConflict(Base):
    """A duplicate whose payload differs from the first one (usually a changed amount)."""

    __tablename__ = "event_conflict"
    __table_args__ = (Index(None, "space_id", "received_at_ms"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    inbox_id: Mapped[str] = mapped_column(String(32))
    received_at_ms: Mapped[int] = mapped_column(BigInteger)
    value_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    first_value_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_currency: Mapped[str] = mapped_column(String(3))
