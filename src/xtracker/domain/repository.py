from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import CustomDomain


class DomainRepository:
    async def for_space(self, session: AsyncSession, space_id: str) -> Sequence[CustomDomain]:
        result = await session.scalars(
            select(CustomDomain)
            .where(CustomDomain.space_id == space_id)
            .order_by(CustomDomain.hostname)
        )
        return result.all()

    async def get(self, session: AsyncSession, space_id: str, hostname: str) -> CustomDomain | None:
        result = await session.scalars(
            select(CustomDomain).where(
                CustomDomain.space_id == space_id, CustomDomain.hostname == hostname
            )
        )
        return result.first()

    async def find_host(self, session: AsyncSession, names: list[str]) -> CustomDomain | None:
        result = await session.scalars(select(CustomDomain).where(CustomDomain.hostname.in_(names)))
        return result.first()

    async def due(self, session: AsyncSession, checked_before_ms: int) -> Sequence[CustomDomain]:
        result = await session.scalars(
            select(CustomDomain)
            .where(
                or_(
                    CustomDomain.checked_at_ms.is_(None),
                    CustomDomain.checked_at_ms <= checked_before_ms,
                )
            )
            .order_by(CustomDomain.checked_at_ms)
        )
        return result.all()


domain_repository = DomainRepository()
