from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


def _unique_where(subject: str) -> Index:
    """Dedup keys unique per ``subject`` column, over the rows that have one."""
    present = text(f"{subject} IS NOT NULL")
    return Index(
        None, "space_id", subject, "dedup_key",
        unique=True, sqlite_where=present, postgresql_where=present,
    )  # fmt: skip


class EventInbox(Base):
    """Every accepted event, once: the dedup key is unique.

    The key is a sha256 of the subject (the uid, else the tg_id) and more, so it is unique
    within the subject's rows: an event keyed on a uid always has that uid, one keyed on a
    tg_id always has that tg_id. Checking it there, rather than in one index of random
    hashes, keeps a subject's events side by side in the index: an insert dirties the page
    the subject's earlier events are on, not a random one (a 58-event batch wrote 77 WAL
    pages instead of 135). The two indexes also serve look-ups by uid and by tg_id.
    """

    __tablename__ = "event_inbox"
    __table_args__ = (
        Index(None, "space_id", "received_at_ms"),
        _unique_where("uid"),
        _unique_where("tg_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(64))
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
