from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class Space(Base):
    """One tenant: an offer or a funnel. Everything else belongs to one space."""

    __tablename__ = "space"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class ApiKey(Base):
    """A Bearer secret or an ingest token, stored only as its SHA-256."""

    __tablename__ = "api_key"
    __table_args__ = (Index(None, "space_id", "kind"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "bearer" | "ingest"
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # prefix + last characters, for display
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    # None while current; set to rotation time + grace period when replaced.
    expires_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
