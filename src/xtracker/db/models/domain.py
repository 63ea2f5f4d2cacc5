from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class CustomDomain(Base):
    """A hostname of a space whose CNAME points at the tracker's origin (SPEC §7)."""

    __tablename__ = "custom_domain"
    __table_args__ = (Index(None, "space_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    hostname: Mapped[str] = mapped_column(String(253), unique=True)
    # pending → verified → failing (since failing_since_ms) → disabled after the grace period
    state: Mapped[str] = mapped_column(String(16), default="pending")
    # the value of the optional TXT record for proxied (flattened) CNAMEs
    verify_token: Mapped[str] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_chain: Mapped[str | None] = mapped_column(Text, nullable=True)  # "a → b → origin"
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    checked_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    verified_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    failing_since_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    disabled_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
