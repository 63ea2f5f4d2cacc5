"""Link look-up for landings, cached for a moment so a busy landing reads the row once."""

from __future__ import annotations

import time
from dataclasses import dataclass

from xtracker.db.dialect import Backend
from xtracker.landing.page import LandingContent
from xtracker.macro import Template, validate_template

CACHE_TTL_S = 2.0
_SELECT = (
    "SELECT id, space_id, slug, kind, target_url, bot_username, title, text, button_label,"
    " image_url, pixel_id, auto_redirect, active FROM link WHERE slug = ?"
)


@dataclass(frozen=True, slots=True)
class LinkInfo:
    id: str
    space_id: str
    slug: str
    kind: str
    target_url: str | None
    bot_username: str | None
    content: LandingContent
    auto_redirect: bool
    active: bool
    template: Template | None = None  # web links: the parsed target_url, parsed once


class LinkCache:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._cache: dict[str, tuple[float, LinkInfo | None]] = {}

    async def get(self, slug: str) -> LinkInfo | None:
        now = time.monotonic()
        hit = self._cache.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._backend.reader() as tx:
            row = await tx.fetchone(_SELECT, (slug,))
        info = None
        if row is not None:
            content = LandingContent(row[6], row[7], row[8], row[9], row[10])
            info = LinkInfo(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                content,
                bool(row[11]),
                bool(row[12]),
                validate_template(row[4], field="target_url") if row[4] else None,
            )
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[slug] = (now + CACHE_TTL_S, info)
        return info

    def forget(self, slug: str | None = None) -> None:
        if slug is None:
            self._cache.clear()
        else:
            self._cache.pop(slug, None)
