"""``create_app(settings)``: the hot-path dispatcher in front of the FastAPI app.

Landings and the ingress API are raw ASGI handlers (they read ``scope`` directly); every
other path goes to FastAPI (management API, docs, dashboard). Both render errors in the one
documented shape.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from xtracker import __version__, capabilities
from xtracker.config import Settings
from xtracker.errors import NotFound, PayloadTooLarge, XTrackerError
from xtracker.http.asgi import (
    HTML_HEADERS,
    Message,
    Receive,
    Scope,
    Send,
    send_bytes,
    send_error,
    send_json,
)
from xtracker.ingress import openapi as ingress_openapi
from xtracker.ingress.handlers import Ingress
from xtracker.kit.clock import Clock
from xtracker.landing.handler import LandingHandler
from xtracker.landing.page import NOT_FOUND_PAGE
from xtracker.ops.logging import configure_logging
from xtracker.runtime import Runtime

log = logging.getLogger("xtracker.app")
YOUNG_GC_THRESHOLD = 20_000

# scope → None for the tracker's own hosts, else the space id of the verified custom domain
# ("" for an unknown host). Installed by the custom-domain capability.
HostRouter = Callable[[Scope], Awaitable[str | None]]


def _error_response(error: XTrackerError) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=error.status, headers=error.headers())


def _validation_error(exc: RequestValidationError) -> XTrackerError:
    from xtracker.errors import ValidationFailed

    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(loc) or None
    message = str(first.get("msg", "invalid request"))
    return ValidationFailed(f"{field}: {message}" if field else message, field=field)


def build_api(app: XTrackerApp) -> FastAPI:
    api = FastAPI(
        title="XTRACKER",
        version=__version__,
        description="Self-hosted conversion tracker: ingress, management and reports API.",
    )

    @api.exception_handler(XTrackerError)
    async def _xtracker_error(_request: Request, exc: XTrackerError) -> JSONResponse:
        return _error_response(exc)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error_response(_validation_error(exc))

    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, XTrackerError):
            # FastAPI wraps what the body reader raised (PayloadTooLarge from _limited) in
            # a 400 "error parsing the body"; answer the real error (413) instead.
            return _error_response(exc.__cause__)
        error = XTrackerError(str(exc.detail))
        error.status = exc.status_code  # type: ignore[misc]
        error.code = {404: "not_found", 405: "method_not_allowed"}.get(  # type: ignore[misc]
            exc.status_code, "http_error"
        )
        return _error_response(error)

    @api.get("/healthz", tags=["ops"], summary="The process is alive")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    @api.get("/readyz", tags=["ops"], summary="The database answers")
    async def readyz(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.runtime
        try:
            async with rt.backend.reader() as tx:
                await tx.fetchone("SELECT 1")
        except Exception as exc:
            log.warning("readyz: database unavailable: %s", exc)
            return JSONResponse({"ok": False}, status_code=503)
        return JSONResponse({"ok": True})

    for router in capabilities.routers():
        api.include_router(router)

    def custom_openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = get_openapi(title=api.title, version=api.version,
                                 description=api.description, routes=api.routes)  # fmt: skip
            api.openapi_schema = ingress_openapi.extend(schema)
        return api.openapi_schema

    api.openapi = custom_openapi  # type: ignore[method-assign]
    return api


class XTrackerApp:
    """The ASGI application. ``runtime`` is opened in the lifespan (or handed in by tests)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        runtime: Runtime | None = None,
        role: str = "serve",
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.role = role
        self.runtime: Runtime | None = None
        self.api = build_api(self)
        self._owns_runtime = runtime is None
        if runtime is not None:
            self.attach(runtime)

    def attach(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.api.state.runtime = runtime
        self.ingress = Ingress(runtime)
        self.landing = LandingHandler(
            settings=runtime.settings, committer=runtime.committer, links=runtime.links,
            geo=runtime.geo, clock=runtime.clock, resolvers=runtime.resolvers,
        )  # fmt: skip
        self._routes = {
            ("POST", "/events"): self.ingress.post_events,
            ("GET", "/e"): self.ingress.get_e,
            ("POST", "/bind"): self.ingress.post_bind,
            ("GET", "/bind"): self.ingress.get_bind,
            ("POST", "/clicks"): self.ingress.post_clicks,
        }
        runtime.extras["app"] = self

    async def startup(self) -> None:
        if self.runtime is None:
            configure_logging(self.settings.log_level, self.settings.log_format)
            runtime = await Runtime.open(self.settings, clock=self.clock)
            self.attach(runtime)
            await capabilities.install_all(runtime, self.role)
            # Start-up objects (models, schemas, routes) live forever: keep them out of the
            # collector's full passes, which otherwise pause every request for ~100 ms.
            gc.collect()
            gc.freeze()
            # A request allocates a few hundred containers that refcounting frees: collecting
            # the young generation every 700 allocations cost ~3 % of a landing visit
            # (measured in instructions); every 20,000 costs a tenth of that.
            gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])

    async def shutdown(self) -> None:
        if self.runtime is not None and self._owns_runtime:
            await self.runtime.close()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.api(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        try:
            assert self.runtime is not None, "the lifespan opens the runtime before requests"
            host_router: HostRouter | None = self.runtime.extras.get("host_router")
            if host_router is not None:
                space_id = await host_router(scope)
                if space_id is not None:  # a custom landing domain: only its landings
                    await self._custom_domain(scope, receive, send, space_id)
                    return
            handler = self._routes.get((method, path))
            if handler is not None:
                await handler(scope, receive, send)
                return
            if path.startswith("/l/") and method in ("GET", "HEAD"):
                slug = path[3:]
                if not slug or "/" in slug:
                    raise NotFound("no such link")
                await self.landing(scope, receive, send, slug)
                return
        except XTrackerError as error:
            await send_error(send, error)
            return
        await self.api(scope, self._limited(scope, receive), send)

    async def _custom_domain(
        self, scope: Scope, receive: Receive, send: Send, space_id: str
    ) -> None:
        """``GET /<slug>`` on a verified custom domain serves that space's landings only.

        ``space_id`` is "" for a host that is not the tracker's and not a verified domain:
        404 before any link look-up, so another space's slugs are never revealed.
        """
        slug = scope["path"].strip("/")
        if not space_id or not slug or "/" in slug or scope["method"] not in ("GET", "HEAD"):
            await send_bytes(send, 404, NOT_FOUND_PAGE, HTML_HEADERS)
            return
        await self.landing(scope, receive, send, slug, space_id=space_id)

    def _limited(self, scope: Scope, receive: Receive) -> Receive:
        """Refuse bodies over the limit on every FastAPI route too."""
        limit = self.settings.max_body_bytes
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge()
            return message

        return limited_receive


def create_app(settings: Settings | None = None, **kwargs: Any) -> XTrackerApp:
    return XTrackerApp(settings or Settings(), **kwargs)


def create_app_from_env() -> XTrackerApp:
    """Factory for ASGI servers (``granian --factory xtracker.app:create_app_from_env``)."""
    return create_app(Settings())


__all__ = ["XTrackerApp", "create_app", "create_app_from_env", "send_json"]
