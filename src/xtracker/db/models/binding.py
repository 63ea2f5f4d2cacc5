from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base


class Binding(Base):
    """A uid bound to a Telegram user id; the first value wins."""

    __tablename__ = "binding"
    __table_args__ = (Index(None, "space_id", "tg_id"),)

    space_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    tg_id: Mapped[int] = mapped_column(BigInteger)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
