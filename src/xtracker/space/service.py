"""Creating, finding and editing spaces."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import Space
from xtracker.errors import NotFound, SlugTaken, ValidationFailed
from xtracker.key.auth import BEARER, INGEST
from xtracker.key.service import key_service
from xtracker.kit.ids import new_uid
from xtracker.kit.money import normalize_currency
from xtracker.kit.text import is_slug, slugify
from xtracker.space.schemas import SpaceCreate, SpaceUpdate


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"unknown timezone {name!r}", field="timezone") from None
    return name


def check_currency(code: str) -> str:
    try:
        return normalize_currency(code)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="currency") from None


class SpaceService:
    async def create(
        self, session: AsyncSession, data: SpaceCreate, now_ms: int
    ) -> tuple[Space, str, str]:
        """A new space with its Bearer secret and ingest token (returned once)."""
        timezone = check_timezone(data.timezone)
        currency = check_currency(data.currency)
        if data.slug is not None:
            if not is_slug(data.slug):
                raise ValidationFailed(
                    "slug may use a-z, 0-9, - and _, starting with a letter or digit", field="slug"
                )
            if await self.find(session, data.slug) is not None:
                raise SlugTaken(f"a space with slug {data.slug!r} exists", field="slug")
            slug = data.slug
        else:
            base = slugify(data.name)
            slug, n = base, 1
            while await self.find(session, slug) is not None:
                n += 1
                slug = f"{base}-{n}"
        space = Space(
            id=new_uid(now_ms), slug=slug, name=data.name, timezone=timezone, currency=currency,
            created_at_ms=now_ms,
        )  # fmt: skip
        session.add(space)
        await session.flush()
        bearer = await key_service.mint(session, space.id, BEARER, now_ms)
        ingest = await key_service.mint(session, space.id, INGEST, now_ms)
        return space, bearer, ingest

    async def find(self, session: AsyncSession, slug_or_id: str) -> Space | None:
        result = await session.scalars(
            select(Space).where((Space.slug == slug_or_id) | (Space.id == slug_or_id))
        )
        return result.first()

    async def get(self, session: AsyncSession, slug_or_id: str) -> Space:
        space = await self.find(session, slug_or_id)
        if space is None:
            raise NotFound(f"no space {slug_or_id!r}")
        return space

    async def list(self, session: AsyncSession, ids: list[str] | None = None) -> list[Space]:
        query = select(Space).order_by(Space.created_at_ms)
        if ids is not None:
            query = query.where(Space.id.in_(ids))
        return list(await session.scalars(query))

    async def update(self, session: AsyncSession, space: Space, data: SpaceUpdate) -> Space:
        if data.name is not None:
            space.name = data.name
        if data.timezone is not None:
            space.timezone = check_timezone(data.timezone)
        if data.currency is not None:
            space.currency = check_currency(data.currency)
        await session.flush()
        return space


space_service = SpaceService()
