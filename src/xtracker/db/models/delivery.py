from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class DeliveryAttempt(Base):
    """One try at sending one outbox row: when, what came back, how long it took."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (Index(None, "outbox_id", "attempt"), Index(None, "space_id", "at_ms"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    outbox_id: Mapped[str] = mapped_column(String(32))
    space_id: Mapped[str] = mapped_column(String(32))
    destination_id: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    # sent | retry | failed
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    response_excerpt: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)  # who sent it


class DestinationCircuit(Base):
    """The circuit breaker of one destination: closed, open (paused) or half_open (probing)."""

    __tablename__ = "destination_circuit"

    destination_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    times_opened: Mapped[int] = mapped_column(Integer)
    probe_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
