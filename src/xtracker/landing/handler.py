"""``GET /l/{slug}``: mint a uid, record the click durably, serve the landing."""

from __future__ import annotations

import logging

from xtracker.click.enrich import GeoLocator
from xtracker.click.record import (
    Visit,
    build_click,
    click_insert_job,
    is_trusted,
    parse_cookies,
    parse_query,
)
from xtracker.config import Settings
from xtracker.db.writer import GroupCommitter
from xtracker.http.asgi import HTML_HEADERS, Receive, Scope, Send, send_bytes
from xtracker.kit.clock import Clock
from xtracker.kit.ids import new_uid
from xtracker.landing.links import LinkCache, LinkInfo
from xtracker.landing.page import NOT_FOUND_PAGE, render_landing
from xtracker.landing.targets import TargetResolver, TargetUnavailable

log = logging.getLogger("xtracker.landing")
NO_STORE = [(b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer-when-downgrade")]


def visit_from_scope(scope: Scope, settings: Settings) -> Visit:
    headers: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        headers.setdefault(key, value)
    client = scope.get("client")
    peer = client[0] if client else ""
    proxy_ip = proxy_country = None
    if is_trusted(peer, settings.trusted_proxy_networks):
        forwarded = headers.get(b"cf-connecting-ip") or headers.get(b"x-real-ip")
        if forwarded is None and b"x-forwarded-for" in headers:
            forwarded = headers[b"x-forwarded-for"].split(b",")[0]
        proxy_ip = forwarded.decode("latin-1").strip() if forwarded else None
        country = headers.get(b"cf-ipcountry")
        proxy_country = country.decode("latin-1") if country else None
    referrer = headers.get(b"referer")
    host = headers.get(b"host")
    return Visit(
        peer_ip=peer,
        user_agent=headers.get(b"user-agent", b"").decode("utf-8", "replace"),
        referrer=referrer.decode("utf-8", "replace") if referrer else None,
        host=host.decode("latin-1") if host else None,
        raw_query=scope.get("query_string", b"").decode("latin-1"),
        cookies=parse_cookies(headers.get(b"cookie", b"").decode("latin-1")),
        proxy_ip=proxy_ip,
        proxy_country=proxy_country,
    )


class LandingHandler:
    def __init__(
        self,
        *,
        settings: Settings,
        committer: GroupCommitter,
        links: LinkCache,
        geo: GeoLocator | None,
        clock: Clock,
        resolvers: dict[str, TargetResolver],
    ) -> None:
        self.settings = settings
        self.committer = committer
        self.links = links
        self.geo = geo
        self.clock = clock
        self.resolvers = resolvers

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, slug: str, space_id: str | None = None
    ) -> None:
        link = await self.links.get(slug)
        if link is None or not link.active or (space_id is not None and link.space_id != space_id):
            await send_bytes(send, 404, NOT_FOUND_PAGE, HTML_HEADERS + NO_STORE)
            return
        await self.serve(scope, send, link)

    async def serve(self, scope: Scope, send: Send, link: LinkInfo) -> None:
        now = self.clock.now_ms()
        uid = new_uid(now)
        visit = visit_from_scope(scope, self.settings)
        params = parse_query(visit.raw_query)
        row = build_click(
            uid=uid, space_id=link.space_id, link_id=link.id, ts_ms=now, visit=visit,
            geo=self.geo, params=params,
        )  # fmt: skip
        target: str | None = None
        note: str | None = None
        resolver = self.resolvers.get(link.kind)
        try:
            if resolver is None:
                raise TargetUnavailable(f"no resolver for {link.kind} links")
            if scope["method"] != "HEAD":  # no body to show it in (nor a channel invite to spend)
                target = await resolver(link, row, params)
        except TargetUnavailable as exc:
            log.warning("landing %s: target unavailable: %s", link.slug, exc)
            note = "We could not reach Telegram right now. Please try again in a minute."
        await self.committer.run(click_insert_job(row))
        if scope["method"] == "HEAD":
            await send_bytes(send, 200, b"", HTML_HEADERS + NO_STORE)
            return
        direct = link.auto_redirect and not link.content.pixel_id and not row["is_bot"]
        if target and direct:
            headers = [(b"location", target.encode()), *NO_STORE, (b"content-length", b"0")]
            await send_bytes(send, 302, b"", headers)
            return
        redirect_after = None
        if link.auto_redirect and not row["is_bot"]:
            redirect_after = 1 if link.content.pixel_id else 0
        page = render_landing(
            link.content, target, uid=uid, redirect_after_s=redirect_after, note=note
        )
        await send_bytes(send, 503 if note else 200, page, HTML_HEADERS + NO_STORE)
