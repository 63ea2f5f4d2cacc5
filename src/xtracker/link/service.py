"""Creating and editing links, with the same rules everywhere (API, CLI, dashboard)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import Link
from xtracker.errors import NotFound, SlugTaken, ValidationFailed
from xtracker.kit.ids import new_uid
from xtracker.kit.text import is_slug
from xtracker.link import schemas
from xtracker.macro import validate_template

BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
PIXEL_ID = re.compile(r"^[0-9]{5,20}$")
# Kinds whose landing target this build can produce; the Telegram capability adds "channel".
SUPPORTED_KINDS: set[str] = {"bot", "web"}
# Per-kind set-up a capability registers, run after the link row is written (create and
# update): the Telegram capability checks the channel of "channel" links and stores it.
KindHook = Callable[[AsyncSession, Link, schemas.LinkFields], Awaitable[None]]
KIND_HOOKS: dict[str, KindHook] = {}


def check_http_url(url: str, field: str) -> str:
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(f"{field} must be an http(s) URL", field=field)
    return url


def to_schema(link: Link, public_url: str) -> schemas.Link:
    return schemas.Link(
        id=link.id, slug=link.slug, name=link.name, kind=link.kind,
        url=f"{public_url.rstrip('/')}/l/{link.slug}", target_url=link.target_url,
        bot_username=link.bot_username, title=link.title, text=link.text,
        button_label=link.button_label, image_url=link.image_url,
        auto_redirect=link.auto_redirect, pixel_id=link.pixel_id, active=link.active,
        tags=list(link.tags or []), created_at_ms=link.created_at_ms,
        updated_at_ms=link.updated_at_ms,
    )  # fmt: skip


class LinkService:
    def _apply(self, link: Link, data: schemas.LinkFields) -> None:
        if data.name is not None:
            link.name = data.name
        if data.target_url is not None:
            link.target_url = data.target_url.strip() or None
        if data.bot_username is not None:
            link.bot_username = data.bot_username.strip().lstrip("@") or None
        for attr in ("title", "text", "button_label", "auto_redirect", "active"):
            value = getattr(data, attr)
            if value is not None:
                setattr(link, attr, value)
        if data.image_url is not None:
            link.image_url = check_http_url(data.image_url, "image_url") if data.image_url else None
        if data.pixel_id is not None:
            if data.pixel_id and not PIXEL_ID.match(data.pixel_id):
                raise ValidationFailed("pixel_id must be digits", field="pixel_id")
            link.pixel_id = data.pixel_id or None
        if data.tags is not None:
            link.tags = [t.strip() for t in data.tags if t.strip()]

    def _check(self, link: Link) -> None:
        if link.kind == "web":
            if not link.target_url:
                raise ValidationFailed("web links need a target_url", field="target_url")
            validate_template(link.target_url, field="target_url")
            check_http_url(link.target_url, "target_url")
        elif link.kind == "bot":
            if not link.bot_username or not BOT_USERNAME.match(link.bot_username):
                raise ValidationFailed(
                    "bot links need bot_username, the bot's @username (5-32 letters, digits, _)",
                    field="bot_username",
                )
            if not link.bot_username.lower().endswith("bot"):
                raise ValidationFailed(
                    "a Telegram bot's username ends in 'bot'", field="bot_username"
                )

    async def create(
        self, session: AsyncSession, space_id: str, data: schemas.LinkCreate, now_ms: int
    ) -> Link:
        if data.kind not in schemas.KINDS:
            raise ValidationFailed("kind must be one of bot, web, channel", field="kind")
        if data.kind not in SUPPORTED_KINDS:
            raise ValidationFailed(
                f"{data.kind} links need the Telegram channel funnel set up", field="kind"
            )
        if not is_slug(data.slug):
            raise ValidationFailed(
                "slug may use a-z, 0-9, - and _, starting with a letter or digit", field="slug"
            )
        if await self.find_by_slug(session, data.slug) is not None:
            raise SlugTaken(f"slug {data.slug!r} is already in use", field="slug")
        link = Link(
            id=new_uid(now_ms), space_id=space_id, slug=data.slug, name=data.name or data.slug,
            kind=data.kind, title="", text="", button_label="Continue", auto_redirect=False,
            active=True, tags=[], created_at_ms=now_ms, updated_at_ms=now_ms,
        )  # fmt: skip
        self._apply(link, data)
        if not link.title:
            link.title = link.name
        self._check(link)
        session.add(link)
        await session.flush()
        hook = KIND_HOOKS.get(link.kind)
        if hook is not None:
            await hook(session, link, data)
        return link

    async def update(
        self, session: AsyncSession, link: Link, data: schemas.LinkUpdate, now_ms: int
    ) -> Link:
        self._apply(link, data)
        self._check(link)
        link.updated_at_ms = now_ms
        await session.flush()
        hook = KIND_HOOKS.get(link.kind)
        if hook is not None:
            await hook(session, link, data)
        return link

    async def find_by_slug(self, session: AsyncSession, slug: str) -> Link | None:
        return (await session.scalars(select(Link).where(Link.slug == slug))).first()

    async def get(self, session: AsyncSession, space_id: str, slug: str) -> Link:
        link = await self.find_by_slug(session, slug)
        if link is None or link.space_id != space_id:
            raise NotFound(f"no link {slug!r} in this space")
        return link

    async def list(self, session: AsyncSession, space_id: str) -> list[Link]:
        query = select(Link).where(Link.space_id == space_id).order_by(Link.created_at_ms)
        return list(await session.scalars(query))

    async def delete(self, session: AsyncSession, link: Link) -> None:
        await session.delete(link)
        await session.flush()


link_service = LinkService()
