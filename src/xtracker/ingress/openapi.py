"""OpenAPI entries for the raw-ASGI ingress endpoints, from the same pydantic schemas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from xtracker.event import schemas

_ERRORS = {
    "401": "bad or missing credentials (invalid_token, missing_credentials)",
    "413": "body over 1 MiB (payload_too_large)",
    "422": "invalid field (unknown_event, validation_error)",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _responses(ok: dict[str, Any], codes: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": ok}}}
    for code in codes:
        out[code] = {
            "description": _ERRORS.get(code, "error"),
            "content": {"application/json": {"schema": _ref(schemas.ErrorResponse)}},
        }
    return out


def _q(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
INGEST: list[dict[str, list[str]]] = [{"ingestToken": []}]


def extend(openapi: dict[str, Any]) -> dict[str, Any]:
    components = openapi.setdefault("components", {})
    defs = components.setdefault("schemas", {})
    for model in (schemas.EventIn, schemas.EventBatchIn, schemas.EventResult,
                  schemas.EventBatchResult, schemas.BindIn, schemas.BindResult, schemas.ClickIn,
                  schemas.ClickCreated, schemas.ErrorBody, schemas.ErrorResponse):  # fmt: skip
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
    components.setdefault("securitySchemes", {}).update(
        {
            "bearer": {"type": "http", "scheme": "bearer"},
            "ingestToken": {"type": "apiKey", "in": "query", "name": "token"},
        }
    )
    event_body = {"oneOf": [_ref(schemas.EventIn), _ref(schemas.EventBatchIn)]}
    event_ok = {"schema": {"oneOf": [_ref(schemas.EventResult), _ref(schemas.EventBatchResult)]}}
    paths = openapi.setdefault("paths", {})
    paths["/events"] = {"post": {
        "tags": ["ingress"], "summary": "Record a canonical event (or a batch of up to 1000)",
        "security": BEARER,
        "requestBody": {"required": True, "content": {"application/json": {"schema": event_body}}},
        "responses": _responses(event_ok, ("401", "413", "422")),
    }}  # fmt: skip
    paths["/e"] = {"get": {
        "tags": ["ingress"], "summary": "Header-less event ingest for postbacks",
        "security": INGEST,
        "parameters": [_q("token", "ingest token", True), _q("event", "canonical event", True),
                       _q("uid", "click id"), _q("value", "deposit amount"),
                       _q("currency", "ISO 4217"), _q("eid", "your event id"),
                       _q("t", "epoch ms"), _q("tg_id", "Telegram user id")],
        "responses": _responses({"schema": _ref(schemas.EventResult)}, ("401", "422")),
    }}  # fmt: skip
    bind_ok = {"schema": _ref(schemas.BindResult)}
    paths["/bind"] = {
        "post": {
            "tags": ["ingress"], "summary": "Bind a uid to a Telegram user id", "security": BEARER,
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref(schemas.BindIn)}}},
            "responses": _responses(bind_ok, ("401", "409", "413", "422")),
        },
        "get": {
            "tags": ["ingress"], "summary": "Bind with the ingest token", "security": INGEST,
            "parameters": [_q("token", "ingest token", True), _q("uid", "click id", True),
                           _q("tg_id", "Telegram user id", True)],
            "responses": _responses(bind_ok, ("401", "409", "422")),
        },
    }  # fmt: skip
    paths["/clicks"] = {"post": {
        "tags": ["ingress"], "summary": "Back-fill a click that skipped the landing",
        "security": BEARER,
        "requestBody": {"content": {"application/json": {"schema": _ref(schemas.ClickIn)}}},
        "responses": _responses({"schema": _ref(schemas.ClickCreated)}, ("401", "404", "422")),
    }}  # fmt: skip
    paths["/l/{slug}"] = {"get": {
        "tags": ["landing"], "summary": "The link's landing page; mints a uid per visit",
        "parameters": [{"name": "slug", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": "landing page", "content": {"text/html": {}}},
                      "302": {"description": "auto-redirect to the target"},
                      "404": {"description": "unknown or inactive link"}},
    }}  # fmt: skip
    return openapi
