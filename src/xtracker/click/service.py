"""Looking clicks up."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.click import schemas
from xtracker.db.models import Click, Link


class ClickService:
    async def list(
        self,
        session: AsyncSession,
        space_id: str,
        *,
        link_slug: str | None = None,
        uid: str | None = None,
        before_ms: int | None = None,
        limit: int = 100,
    ) -> list[schemas.Click]:
        query = select(Click).where(Click.space_id == space_id)
        if link_slug is not None:
            query = query.join(Link, Link.id == Click.link_id).where(Link.slug == link_slug)
        if uid is not None:
            query = query.where(Click.uid == uid)
        if before_ms is not None:
            query = query.where(Click.ts_ms < before_ms)
        query = query.order_by(Click.ts_ms.desc(), Click.uid.desc()).limit(max(1, min(limit, 1000)))
        return [schemas.Click.model_validate(c) for c in await session.scalars(query)]


click_service = ClickService()
