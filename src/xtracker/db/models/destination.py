from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xtracker.db.models.base import Base, JSONText


class Destination(Base):
    """Where matched events go: fb_capi, webhook or s2s_postback."""

    __tablename__ = "destination"
    __table_args__ = (Index(None, "space_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    # canonical → destination name; a canonical absent from the map is not sent.
    event_map: Mapped[dict[str, str]] = mapped_column(JSONText)
    # kind-specific, non-secret settings (url, url_template, method, pixel_id, headers …)
    config: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    secret_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    proxy_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
