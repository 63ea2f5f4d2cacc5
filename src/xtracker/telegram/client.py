"""A small Telegram Bot API client: ``POST {base}/bot<token>/<method>`` with a JSON body.

Answers are ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``; the latter become typed errors so callers decide on
retry (``TelegramRetryAfter``), stop (``TelegramForbidden``) or give up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson

DEFAULT_TIMEOUT_S = 10.0


class TelegramError(Exception):
    """The Bot API refused a call (or could not be reached)."""

    def __init__(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
    ) -> None:
        self.method = method
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        super().__init__(f"{method}: {error_code} {description}")


class TelegramRetryAfter(TelegramError):
    """Flood control (429): wait ``retry_after`` seconds."""


class TelegramBadRequest(TelegramError):
    """400: the call is wrong (chat not found, rights missing, …)."""


class TelegramUnauthorized(TelegramError):
    """401: the token is wrong or revoked."""


class TelegramForbidden(TelegramError):
    """403: the bot may not do that (the user blocked it, the bot was kicked)."""


class TelegramServerError(TelegramError):
    """5xx from the Bot API."""


class TelegramUnreachable(TelegramError):
    """No answer: connection refused, timeout, or a reply that is not the Bot API's."""


def error_from(method: str, status: int, body: Any) -> TelegramError:
    code = status
    description = f"HTTP {status}"
    retry_after: int | None = None
    if isinstance(body, dict):
        raw_code = body.get("error_code")
        if isinstance(raw_code, int):
            code = raw_code
        description = str(body.get("description") or description)
        params = body.get("parameters")
        if isinstance(params, dict) and isinstance(params.get("retry_after"), int):
            retry_after = params["retry_after"]
    if retry_after is not None or code == 429:
        return TelegramRetryAfter(method, code, description, retry_after or 1)
    kinds: dict[int, type[TelegramError]] = {
        400: TelegramBadRequest,
        401: TelegramUnauthorized,
        403: TelegramForbidden,
        404: TelegramUnauthorized,  # the Bot API answers 404 for an unknown token
    }
    kind = kinds.get(code, TelegramServerError if code >= 500 else TelegramError)
    return kind(method, code, description)


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str
    first_name: str


class TelegramClient:
    """One bot's view of the Bot API at ``base_url`` (``XTRACKER_TELEGRAM_API_URL``)."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.telegram.org",
        http: httpx.AsyncClient | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.token = token
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._own_http = http is None
        self._timeout = timeout_s

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        return self._http

    async def aclose(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def call(self, method: str, timeout_s: float | None = None, **params: Any) -> Any:
        """Call ``method`` with the non-None ``params``; return ``result`` or raise."""
        body = {k: v for k, v in params.items() if v is not None}
        url = f"{self.base_url}/bot{self.token}/{method}"
        try:
            response = await self._client().post(
                url,
                content=orjson.dumps(body),
                headers={"content-type": "application/json"},
                timeout=timeout_s or self._timeout,
            )
        except httpx.HTTPError as exc:
            raise TelegramUnreachable(method, 0, f"{type(exc).__name__}: {exc}") from None
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or "ok" not in data:
            if response.status_code >= 400:
                raise error_from(method, response.status_code, None)
            raise TelegramUnreachable(method, response.status_code, "not a Bot API answer")
        if data["ok"] is True:
            return data.get("result")
        raise error_from(method, response.status_code, data)

    # The methods the channel funnel uses, named as in the Bot API.

    async def get_me(self) -> BotIdentity:
        me = await self.call("getMe")
        return BotIdentity(int(me["id"]), str(me.get("username") or ""), str(me["first_name"]))

    async def get_chat(self, chat_id: int | str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("getChat", chat_id=chat_id)
        return result

    async def get_chat_member(self, chat_id: int | str, user_id: int) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("getChatMember", chat_id=chat_id, user_id=user_id)
        return result

    async def get_chat_member_count(self, chat_id: int | str) -> int:
        return int(await self.call("getChatMemberCount", chat_id=chat_id))

    async def create_chat_invite_link(self, chat_id: int | str, name: str) -> str:
        """A join-request link (never with ``member_limit``: the two cannot be combined)."""
        result = await self.call(
            "createChatInviteLink", chat_id=chat_id, name=name[:32], creates_join_request=True
        )
        return str(result["invite_link"])

    async def approve_chat_join_request(self, chat_id: int | str, user_id: int) -> bool:
        return bool(await self.call("approveChatJoinRequest", chat_id=chat_id, user_id=user_id))

    async def send_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        button_text: str | None = None,
        button_url: str | None = None,
    ) -> dict[str, Any]:
        markup = None
        if button_url:
            button = {"text": button_text or "Open", "url": button_url}
            markup = {"inline_keyboard": [[button]]}
        result: dict[str, Any] = await self.call(
            "sendMessage", chat_id=chat_id, text=text, reply_markup=markup
        )
        return result

    async def set_webhook(self, url: str, secret_token: str, allowed_updates: list[str]) -> bool:
        return bool(
            await self.call(
                "setWebhook", url=url, secret_token=secret_token, allowed_updates=allowed_updates
            )
        )

    async def delete_webhook(self) -> bool:
        return bool(await self.call("deleteWebhook"))

    async def get_updates(
        self, offset: int, timeout_s: int, allowed_updates: list[str]
    ) -> list[dict[str, Any]]:
        result = await self.call(
            "getUpdates",
            timeout_s=self._timeout + timeout_s,
            offset=offset,
            timeout=timeout_s,
            allowed_updates=allowed_updates,
        )
        return list(result or [])
