"""Raw ASGI handlers for the ingress API; every answer comes after its commit is durable."""

from __future__ import annotations

from typing import Any

import orjson

from xtracker.binding.bind import bind_job
from xtracker.click.record import Visit, build_click, click_insert_job, parse_query
from xtracker.errors import InvalidJSON, InvalidToken, NotFound, ValidationFailed, XTrackerError
from xtracker.event.ingest import ingest_job
from xtracker.event.parse import EventIn, parse_event
from xtracker.http.asgi import Receive, Scope, Send, header, query_params, read_body, send_json
from xtracker.key.auth import BEARER, INGEST, Credential, bearer_from_header
from xtracker.kit.ids import is_valid_uid_text, new_uid
from xtracker.runtime import Runtime

_LINK_BY_SLUG = "SELECT id, space_id FROM link WHERE slug = ?"


class Ingress:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def _bearer(self, scope: Scope, now_ms: int) -> Credential:
        authorization = header(scope, b"authorization")
        if authorization is None and "token" in query_params(scope):
            # Secrets in URLs leak into logs: this endpoint takes only the Bearer header.
            raise InvalidToken(
                "this endpoint needs Authorization: Bearer <secret>; ?token= works only on"
                " GET /e and GET /bind"
            )
        return await self.rt.auth.authenticate(bearer_from_header(authorization), BEARER, now_ms)

    async def _json(self, scope: Scope, receive: Receive) -> Any:
        """The body as JSON. Callers submit their job right after it, without awaiting
        anything else in between, so the batch being formed may wait for this body."""
        with self.rt.committer.arriving():
            body = await read_body(scope, receive, self.rt.settings.max_body_bytes)
        if not body.strip():
            return None  # no body: every field of POST /clicks is optional
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InvalidJSON() from None

    async def _ingest(self, space_id: str, events: list[EventIn], now_ms: int) -> list[Any]:
        result: list[Any] = await self.rt.committer.run(ingest_job(space_id, events, now_ms))
        return result

    async def post_events(self, scope: Scope, receive: Receive, send: Send) -> None:
        now = self.rt.clock.now_ms()
        credential = await self._bearer(scope, now)
        data = await self._json(scope, receive)
        if isinstance(data, dict) and "events" in data and "event" not in data:
            await self._post_batch(send, credential, data["events"], now)
            return
        event = parse_event(data, now_ms=now, default_currency=credential.currency)
        (answer,) = await self._ingest(credential.space_id, [event], now)
        await send_json(send, 200, answer)

    async def _post_batch(self, send: Send, credential: Credential, items: Any, now: int) -> None:
        limit = self.rt.settings.max_batch_events
        if not isinstance(items, list) or not items:
            raise ValidationFailed("events must be a non-empty list", field="events")
        if len(items) > limit:
            raise ValidationFailed(f"at most {limit} events per request", field="events")
        parsed: list[EventIn] = []
        for index, item in enumerate(items):
            try:
                parsed.append(parse_event(item, now_ms=now, default_currency=credential.currency))
            except XTrackerError as exc:
                # The whole batch is refused, naming the item, so nothing is half-written.
                exc.field = f"events[{index}].{exc.field}" if exc.field else f"events[{index}]"
                exc.message = f"events[{index}]: {exc.message}"
                raise
        results = await self._ingest(credential.space_id, parsed, now)
        await send_json(send, 200, {"ok": True, "results": results})

    async def get_e(self, scope: Scope, receive: Receive, send: Send) -> None:
        now = self.rt.clock.now_ms()
        params = query_params(scope)
        credential = await self.rt.auth.authenticate(params.get("token"), INGEST, now)
        event = parse_event(
            params, now_ms=now, default_currency=credential.currency, source="postback",
            time_field="t",
        )  # fmt: skip
        (answer,) = await self._ingest(credential.space_id, [event], now)
        await send_json(send, 200, answer)

    async def _bind(self, send: Send, credential: Credential, uid: Any, tg_id: Any) -> None:
        if uid is None or uid == "":
            raise ValidationFailed("uid is required", field="uid")
        uid = str(uid).strip()
        if not is_valid_uid_text(uid):
            raise ValidationFailed("uid may contain only letters, digits and - _ . ~", field="uid")
        if isinstance(tg_id, str) and tg_id.strip().isdigit():
            tg_id = int(tg_id.strip())
        if isinstance(tg_id, bool) or not isinstance(tg_id, int) or not 0 < tg_id < 2**53:
            raise ValidationFailed("tg_id must be a positive Telegram user id", field="tg_id")
        now = self.rt.clock.now_ms()
        answer = await self.rt.committer.run(bind_job(credential.space_id, uid, tg_id, now))
        await send_json(send, 200, answer)

    async def post_bind(self, scope: Scope, receive: Receive, send: Send) -> None:
        credential = await self._bearer(scope, self.rt.clock.now_ms())
        data = await self._json(scope, receive)
        if not isinstance(data, dict):
            raise ValidationFailed("body must be a JSON object")
        await self._bind(send, credential, data.get("uid"), data.get("tg_id"))

    async def get_bind(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = query_params(scope)
        now = self.rt.clock.now_ms()
        credential = await self.rt.auth.authenticate(params.get("token"), INGEST, now)
        await self._bind(send, credential, params.get("uid"), params.get("tg_id"))

    async def post_clicks(self, scope: Scope, receive: Receive, send: Send) -> None:
        now = self.rt.clock.now_ms()
        credential = await self._bearer(scope, now)
        data = await self._json(scope, receive)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValidationFailed("body must be a JSON object")
        for name in ("link_slug", "fbclid", "campaign_name", "raw_query"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise ValidationFailed(f"{name} must be a string", field=name)
        link_id = None
        if data.get("link_slug"):
            async with self.rt.backend.reader() as tx:
                row = await tx.fetchone(_LINK_BY_SLUG, (data["link_slug"],))
            if row is None or row[1] != credential.space_id:
                raise NotFound(f"no link {data['link_slug']!r} in this space", field="link_slug")
            link_id = row[0]
        raw_query = (data.get("raw_query") or "").lstrip("?")
        params = parse_query(raw_query)
        for name in ("fbclid", "campaign_name"):  # explicit fields win over raw_query
            if data.get(name):
                params[name] = data[name]
        visit = Visit(
            peer_ip="", user_agent="", referrer=None, host=None, raw_query=raw_query, cookies={}
        )
        row_data = build_click(
            uid=new_uid(now), space_id=credential.space_id, link_id=link_id, ts_ms=now,
            visit=visit, geo=None, source="api", params=params,
        )  # fmt: skip
        row_data["is_bot"] = False  # an API back-fill is a real click by definition
        uid = await self.rt.committer.run(click_insert_job(row_data))
        await send_json(send, 200, {"uid": uid})
