"""Creating and editing destinations with the same rules everywhere (API, CLI, dashboard).

Secrets (the webhook's ``whsec_`` signing secret, Meta's access token, custom header values)
live in one encrypted blob (``secret_enc``); ``config`` holds only what may be shown.
"""

from __future__ import annotations

import base64
import re
import secrets as pysecrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from xtracker.db.models import Destination, DestinationCircuit
from xtracker.destination import schemas
from xtracker.destination.repository import destination_repository
from xtracker.errors import NotFound, ValidationFailed
from xtracker.event.canonical import CANONICAL_EVENTS
from xtracker.kit.crypto import SecretBox
from xtracker.kit.ids import new_uid
from xtracker.macro import validate_template
from xtracker.sender.netguard import check_url_public

PIXEL_ID = re.compile(r"^[0-9]{5,20}$")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
RESERVED_HEADERS = {"content-type", "content-length", "host", "webhook-id", "webhook-timestamp",
                    "webhook-signature", "transfer-encoding"}  # fmt: skip
UrlCheck = Callable[..., Awaitable[None]]


def new_signing_secret() -> str:
    """Standard Webhooks symmetric secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(pysecrets.token_bytes(24)).decode()


def read_secrets(box: SecretBox, destination: Destination) -> dict[str, Any]:
    if not destination.secret_enc:
        return {}
    data: dict[str, Any] = orjson.loads(box.decrypt(destination.secret_enc))
    return data


def parse_header(text: str) -> tuple[str, str]:
    """``'K: V'`` → ``('K', 'V')``."""
    name, sep, value = text.partition(":")
    if not sep:
        raise ValidationFailed(f"header {text!r} must look like 'Name: value'", field="headers")
    return name.strip(), value.strip()


def parse_map(items: list[str]) -> dict[str, str | None]:
    """``['deposit=conv', 'contact=']`` → ``{'deposit': 'conv', 'contact': None}``."""
    out: dict[str, str | None] = {}
    for item in items:
        canonical, sep, name = item.partition("=")
        if not sep:
            raise ValidationFailed(
                f"--map {item!r} must look like canonical=name (empty name unmaps)",
                field="event_map",
            )
        out[canonical.strip()] = name.strip() or None
    return out


def circuit_schema(circuit: DestinationCircuit | None) -> schemas.Circuit:
    if circuit is None:
        return schemas.Circuit(state="closed", consecutive_failures=0, probe_at_ms=None)
    return schemas.Circuit(
        state=circuit.state, consecutive_failures=circuit.consecutive_failures,
        probe_at_ms=circuit.probe_at_ms if circuit.state != "closed" else None,
    )  # fmt: skip


def to_schema(
    destination: Destination, box: SecretBox, circuit: DestinationCircuit | None = None
) -> schemas.Destination:
    hidden = read_secrets(box, destination)
    return schemas.Destination(
        id=destination.id, kind=destination.kind, name=destination.name,
        event_map=dict(destination.event_map), active=destination.active,
        proxy_url=destination.proxy_url, config=dict(destination.config or {}),
        headers=sorted(hidden.get("headers", {})),
        has_access_token=bool(hidden.get("access_token")), circuit=circuit_schema(circuit),
        created_at_ms=destination.created_at_ms, updated_at_ms=destination.updated_at_ms,
    )  # fmt: skip


def _http_url(url: str, field: str) -> str:
    parts = urlsplit(url.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"{field} must be an http(s) URL", field=field)
    return url.strip()


class DestinationService:
    def __init__(self, url_check: UrlCheck = check_url_public) -> None:
        self._url_check = url_check

    def _merge_map(self, current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
        merged = dict(current)
        for canonical, name in changes.items():
            if canonical not in CANONICAL_EVENTS:
                raise ValidationFailed(
                    f"event_map: {canonical!r} is not a canonical event "
                    "(contact, subscribed, registration, deposit)",
                    field="event_map",
                )
            if name is None or not name.strip():
                merged.pop(canonical, None)
            elif len(name.strip()) > 100:
                raise ValidationFailed("event_map names are at most 100 chars", field="event_map")
            else:
                merged[canonical] = name.strip()
        return merged

    async def _apply(
        self,
        destination: Destination,
        hidden: dict[str, Any],
        data: schemas.DestinationFields,
        allow_private: bool,
    ) -> None:
        config = dict(destination.config or {})
        kind = destination.kind
        if data.name is not None:
            if not data.name.strip():
                raise ValidationFailed("name must not be empty", field="name")
            destination.name = data.name.strip()
        if data.event_map is not None:
            destination.event_map = self._merge_map(dict(destination.event_map), data.event_map)
        if data.active is not None:
            destination.active = data.active
        if data.proxy_url is not None:
            proxy = data.proxy_url.strip()
            if proxy and urlsplit(proxy).scheme not in ("http", "https"):
                raise ValidationFailed("proxy_url must be an http:// proxy URL", field="proxy_url")
            destination.proxy_url = proxy or None
        if data.headers is not None:
            if kind == "fb_capi":
                raise ValidationFailed("fb_capi takes no custom headers", field="headers")
            headers: dict[str, str] = {}
            for name, value in data.headers.items():
                if not HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
                    raise ValidationFailed(f"header {name!r} cannot be set", field="headers")
                headers[name] = value
            hidden["headers"] = headers
        if kind == "webhook":
            if data.url is not None:
                config["url"] = _http_url(data.url, "url")
            if data.method is not None:
                method = data.method.upper()
                if method not in ("POST", "PUT"):
                    raise ValidationFailed("webhook method must be POST or PUT", field="method")
                config["method"] = method
            config.setdefault("method", "POST")
            if not config.get("url"):
                raise ValidationFailed("webhook destinations need a url", field="url")
            if not allow_private:
                await self._url_check(config["url"], field="url")
        elif kind == "s2s_postback":
            if data.url_template is not None:
                validate_template(data.url_template, field="url_template")
                config["url_template"] = _http_url(data.url_template, "url_template")
            if data.method is not None:
                method = data.method.upper()
                if method not in ("GET", "POST"):
                    raise ValidationFailed("s2s_postback method is GET or POST", field="method")
                config["method"] = method
            if data.expected_status is not None:
                config["expected_status"] = data.expected_status
            if data.expected_body is not None:
                config["expected_body"] = data.expected_body or None
            config.setdefault("method", "GET")
            config.setdefault("expected_status", 200)
            config.setdefault("expected_body", None)
            if not config.get("url_template"):
                raise ValidationFailed("s2s_postback needs a url_template", field="url_template")
            if not allow_private:
                await self._url_check(
                    config["url_template"].replace("{", "").replace("}", ""), field="url_template"
                )
        else:  # fb_capi
            if data.pixel_id is not None:
                if not PIXEL_ID.match(data.pixel_id.strip()):
                    raise ValidationFailed("pixel_id must be digits", field="pixel_id")
                config["pixel_id"] = data.pixel_id.strip()
            if data.access_token is not None:
                if not data.access_token.strip():
                    raise ValidationFailed("access_token must not be empty", field="access_token")
                hidden["access_token"] = data.access_token.strip()
            if data.test_event_code is not None:
                config["test_event_code"] = data.test_event_code.strip() or None
            if data.action_source is not None:
                if data.action_source not in schemas.ACTION_SOURCES:
                    raise ValidationFailed(
                        "action_source must be website, chat or system_generated",
                        field="action_source",
                    )
                config["action_source"] = data.action_source
            config.setdefault("action_source", "website")
            config.setdefault("test_event_code", None)
            if not config.get("pixel_id"):
                raise ValidationFailed("fb_capi needs a pixel_id", field="pixel_id")
            if not hidden.get("access_token"):
                raise ValidationFailed("fb_capi needs an access_token", field="access_token")
        for field in ("url", "url_template", "expected_status", "expected_body", "pixel_id",
                      "test_event_code", "action_source"):  # fmt: skip
            if getattr(data, field) is not None and field not in config:
                raise ValidationFailed(f"{field} does not apply to {kind}", field=field)
        destination.config = config

    async def create(
        self,
        session: AsyncSession,
        box: SecretBox,
        space_id: str,
        data: schemas.DestinationCreate,
        now_ms: int,
        *,
        allow_private: bool,
    ) -> tuple[Destination, str | None]:
        """Create it; returns the destination and its signing secret (webhooks; shown once)."""
        if data.kind not in schemas.KINDS:
            raise ValidationFailed("kind must be fb_capi, webhook or s2s_postback", field="kind")
        destination = Destination(
            id=new_uid(now_ms), space_id=space_id, kind=data.kind, name=data.name or data.kind,
            event_map=dict(schemas.DEFAULT_EVENT_MAPS[data.kind]), config={}, active=True,
            created_at_ms=now_ms, updated_at_ms=now_ms,
        )  # fmt: skip
        hidden: dict[str, Any] = {}
        secret = None
        if data.kind == "webhook":
            secret = hidden["signing_secret"] = new_signing_secret()
        await self._apply(destination, hidden, data, allow_private)
        if data.name is None:
            destination.name = self._default_name(destination)
        destination.secret_enc = box.encrypt(orjson.dumps(hidden).decode()) if hidden else None
        session.add(destination)
        await session.flush()
        return destination, secret

    def _default_name(self, destination: Destination) -> str:
        config = destination.config
        if destination.kind == "fb_capi":
            return f"Meta pixel {config['pixel_id']}"
        url = config.get("url") or config.get("url_template") or ""
        return f"{destination.kind} {urlsplit(url.replace('{', '').replace('}', '')).hostname}"

    async def update(
        self,
        session: AsyncSession,
        box: SecretBox,
        destination: Destination,
        data: schemas.DestinationUpdate,
        now_ms: int,
        *,
        allow_private: bool,
    ) -> str | None:
        """Apply the changes; returns a new signing secret when one was rotated."""
        hidden = read_secrets(box, destination)
        secret = None
        if data.rotate_secret:
            if destination.kind != "webhook":
                raise ValidationFailed("only webhooks have a signing secret", field="rotate_secret")
            secret = hidden["signing_secret"] = new_signing_secret()
        await self._apply(destination, hidden, data, allow_private)
        destination.secret_enc = box.encrypt(orjson.dumps(hidden).decode()) if hidden else None
        destination.updated_at_ms = now_ms
        await session.flush()
        return secret

    async def get(self, session: AsyncSession, space_id: str, destination_id: str) -> Destination:
        destination = await destination_repository.get(session, destination_id)
        if destination is None or destination.space_id != space_id:
            raise NotFound(f"no destination {destination_id!r} in this space")
        return destination

    async def schemas_for(
        self, session: AsyncSession, box: SecretBox, destinations: list[Destination]
    ) -> list[schemas.Destination]:
        circuits = await destination_repository.circuits(session, [d.id for d in destinations])
        return [to_schema(d, box, circuits.get(d.id)) for d in destinations]

    async def delete(self, session: AsyncSession, destination: Destination, now_ms: int) -> None:
        await destination_repository.delete(session, destination, now_ms)

    async def list(self, session: AsyncSession, space_id: str) -> list[Destination]:
        return await destination_repository.list(session, space_id)


destination_service = DestinationService()
