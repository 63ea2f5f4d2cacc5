from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class EventOutbox(Base):
    """One dispatch of one event to one destination; written with the event."""

    __tablename__ = "event_outbox"
    __table_args__ = (
        Index(None, "status", "next_attempt_at_ms"),
        Index(None, "space_id", "created_at_ms"),
        Index(None, "destination_id", "status"),
        Index(None, "inbox_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    inbox_id: Mapped[str] = mapped_column(String(32))
    destination_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    event_name: Mapped[str] = mapped_column(String(100))
    # pending → sending → sent | retrying → … → failed_permanently
    status: Mapped[str] = mapped_column(String(24), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at_ms: Mapped[int] = mapped_column(BigInteger)
    lease_until_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # which worker claim holds the lease; a late answer after the lease moved on is not recorded
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
    sent_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
