"""A local Telegram Bot API server that speaks the real protocol, for tests.

``/bot<token>/<method>`` (method names case-insensitive), parameters from the query string,
``application/x-www-form-urlencoded``, ``multipart/form-data`` or JSON; answers
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}``. It keeps channels, admins, invite links, pending join
requests, members, sent messages and a ``getUpdates`` queue, enforces the rules the funnel
depends on (``name`` ≤ 32, ``creates_join_request`` without ``member_limit``, admin rights,
the 5-minute ``user_chat_id`` window, blocked users) and lets a test script failures (429
with ``retry_after``, 403, 5xx) per method. aiogram's ``Bot`` pointed at it works
(``tests/integration/test_telegram_fake.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_post_messages", "can_edit_messages",
    "can_send_welcome_messages",
)  # fmt: skip
JOIN_WINDOW_S = 300
INT_PARAMS = ("chat_id", "user_id", "offset", "limit", "timeout", "member_limit", "expire_date")


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Failure:
    method: str
    code: int
    description: str
    retry_after: int | None
    times: int
    when: Callable[[dict[str, Any]], bool] | None


@dataclass
class Chat:
    id: int
    title: str
    username: str | None
    type: str = "channel"
    admins: dict[int, dict[str, bool]] = field(default_factory=dict)
    members: set[int] = field(default_factory=set)
    extra_members: int = 0  # subscribers the tests do not model one by one

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            out["username"] = self.username
        return out


@dataclass
class JoinRequest:
    chat_id: int
    user: dict[str, Any]
    user_chat_id: int
    date: int
    invite_link: str | None


class FakeTelegram:
    """State plus an aiohttp server; use ``async with FakeTelegram(clock) as tg``."""

    def __init__(self, now_s: Callable[[], float] | None = None) -> None:
        self._now_s = now_s
        self.bots: dict[str, dict[str, Any]] = {}
        self.chats: dict[int, Chat] = {}
        self.invites: dict[str, dict[str, Any]] = {}
        self.requests: dict[tuple[int, int], JoinRequest] = {}
        self.started: set[tuple[str, int]] = set()  # (token, user id) who /start-ed the bot
        self.blocked: set[int] = set()
        self.sent: list[dict[str, Any]] = []
        self.approved: list[tuple[int, int]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[Failure] = []
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.updates: dict[str, list[dict[str, Any]]] = {}
        self.next_update_id = 500_000_000
        self._message_id = 0
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # ---- set-up helpers for tests ------------------------------------------------------
    def add_bot(self, token: str, user_id: int, username: str) -> None:
        self.bots[token] = {"id": user_id, "is_bot": True, "first_name": username,
                            "username": username, "can_join_groups": True,
                            "can_read_all_group_messages": False,
                            "supports_inline_queries": False}  # fmt: skip
        self.updates.setdefault(token, [])

    def add_channel(
        self, chat_id: int, title: str, *, username: str | None = None, members: int = 0
    ) -> Chat:
        chat = Chat(chat_id, title, username, extra_members=members)
        self.chats[chat_id] = chat
        return chat

    def make_admin(self, chat_id: int, user_id: int, **rights: bool) -> None:
        granted = {name: True for name in ADMIN_RIGHTS}
        granted.update(rights)
        self.chats[chat_id].admins[user_id] = granted

    def fail(
        self,
        method: str,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (matching ``when``) fail."""
        self.failures.append(Failure(method.lower(), code, description, retry_after, times, when))

    def now(self) -> int:
        return int(self._now_s()) if self._now_s else int(time.time())

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method.lower()]

    # ---- updates the tests make Telegram emit ------------------------------------------
    def _push(self, token: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        allowed = self.webhooks.get(token, {}).get("allowed_updates")
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        if allowed is None or kind in allowed:
            self.updates.setdefault(token, []).append(update)
            self._new_update.set()
        return update

    def user(self, user_id: int, first_name: str = "Ann") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name}

    def join_request(
        self, token: str, chat_id: int, user_id: int, invite_link: str | None
    ) -> dict[str, Any]:
        """A user asks to join through ``invite_link`` (None: through the public username)."""
        chat = self.chats[chat_id]
        user = self.user(user_id)
        request = JoinRequest(chat_id, user, user_id, self.now(), invite_link)
        self.requests[(chat_id, user_id)] = request
        payload: dict[str, Any] = {"chat": chat.as_dict(), "from": user,
                                   "user_chat_id": user_id, "date": request.date}  # fmt: skip
        if invite_link is not None:
            payload["invite_link"] = self._invite_object(invite_link, token)
        return self._push(token, "chat_join_request", payload)

    def member_update(
        self, token: str, chat_id: int, user_id: int, old: str, new: str
    ) -> dict[str, Any]:
        chat = self.chats[chat_id]
        user = self.user(user_id)
        if new in ("member", "administrator", "creator"):
            chat.members.add(user_id)
        else:
            chat.members.discard(user_id)
        payload = {"chat": chat.as_dict(), "from": user, "date": self.now(),
                   "old_chat_member": {"status": old, "user": user},
                   "new_chat_member": {"status": new, "user": user}}  # fmt: skip
        return self._push(token, "chat_member", payload)

    def _invite_object(self, link: str, token: str) -> dict[str, Any]:
        info = self.invites.get(link)
        if info is None:  # someone else's link: Telegram hides its tail from the bot
            return {"invite_link": link[: link.rfind("/") + 1] + "…",
                    "creator": self.user(1, "Owner"), "creates_join_request": True,
                    "is_primary": False, "is_revoked": False}  # fmt: skip
        out = {k: v for k, v in info.items() if k != "chat_id"}
        if info["creator"]["id"] != self.bots[token]["id"]:
            out["invite_link"] = link[: link.rfind("/") + 1] + "…"
        return out

    # ---- the HTTP server ---------------------------------------------------------------
    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        ctype = request.content_type
        if request.can_read_body:
            if ctype == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    params[key] = value if isinstance(value, str) else value.file.read()
        for key, value in list(params.items()):
            if isinstance(value, str):
                if key in INT_PARAMS and value.lstrip("-").isdigit():
                    params[key] = int(value)
                elif value in ("true", "false"):
                    params[key] = value == "true"
                elif value[:1] in ("[", "{"):
                    params[key] = json.loads(value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        if not path.startswith("/bot") or path.count("/") != 2:
            return self._error(ApiError(404, "Not Found"))
        token, method = path[4:].split("/", 1)
        method = method.lower()
        params = await self._params(request)
        self.calls.append((method, params))
        if token not in self.bots:
            return self._error(ApiError(401, "Unauthorized"))
        try:
            self._scripted(method, params)
            handler = getattr(self, "m_" + method, None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(token, params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return self._error(error)
        return web.json_response({"ok": True, "result": result})

    def _scripted(self, method: str, params: dict[str, Any]) -> None:
        for failure in self.failures:
            if failure.method == method and failure.times > 0:
                if failure.when is not None and not failure.when(params):
                    continue
                failure.times -= 1
                raise ApiError(failure.code, failure.description, failure.retry_after)

    @staticmethod
    def _error(error: ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": error.code,
                                "description": error.description}  # fmt: skip
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.code)

    def _chat(self, params: dict[str, Any]) -> Chat:
        raw = params.get("chat_id")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == raw[1:].lower():
                    return chat
        elif isinstance(raw, int) and raw in self.chats:
            return self.chats[raw]
        raise ApiError(400, "Bad Request: chat not found")

    def _require_admin(self, token: str, chat: Chat, right: str = "can_invite_users") -> None:
        rights = chat.admins.get(self.bots[token]["id"])
        if rights is None or not rights.get(right):
            raise ApiError(400, "Bad Request: not enough rights to manage chat invite link")

    # ---- Bot API methods ---------------------------------------------------------------
    def m_getme(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.bots[token]

    def m_getchat(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        gifts = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}  # fmt: skip
        return {**chat.as_dict(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}  # fmt: skip

    def _member(self, chat: Chat, user_id: int) -> dict[str, Any]:
        bot = next((b for b in self.bots.values() if b["id"] == user_id), None)
        user = bot or self.user(user_id)
        if user_id in chat.admins:
            return {"status": "administrator", "user": user, "can_be_edited": False,
                    "is_anonymous": False, **chat.admins[user_id]}  # fmt: skip
        if user_id in chat.members:
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    def m_getchatmember(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        return self._member(chat, int(params["user_id"]))

    def m_getchatadministrators(self, token: str, params: dict[str, Any]) -> list[Any]:
        chat = self._chat(params)
        return [self._member(chat, uid) for uid in chat.admins]

    def m_getchatmembercount(self, token: str, params: dict[str, Any]) -> int:
        chat = self._chat(params)
        return len(chat.members) + len(chat.admins) + chat.extra_members

    def m_createchatinvitelink(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        self._require_admin(token, chat)
        name = params.get("name")
        if name is not None and len(str(name)) > 32:
            raise ApiError(400, "Bad Request: invite link name is too long")
        join_request = bool(params.get("creates_join_request"))
        if join_request and params.get("member_limit") is not None:
            raise ApiError(400, "Bad Request: member limit can't be specified for links"
                                " requiring administrator approval")  # fmt: skip
        link = "https://t.me/+" + secrets.token_urlsafe(12)
        info: dict[str, Any] = {"invite_link": link, "creator": self.bots[token],
                                "creates_join_request": join_request, "is_primary": False,
                                "is_revoked": False, "chat_id": chat.id}  # fmt: skip
        if name is not None:
            info["name"] = str(name)
        self.invites[link] = info
        return {k: v for k, v in info.items() if k != "chat_id"}

    def m_approvechatjoinrequest(self, token: str, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        self._require_admin(token, chat)
        user_id = int(params["user_id"])
        request = self.requests.pop((chat.id, user_id), None)
        if request is None:
            raise ApiError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        self.approved.append((chat.id, user_id))
        self.member_update(token, chat.id, user_id, "left", "member")
        return True

    def m_declinechatjoinrequest(self, token: str, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        self._require_admin(token, chat)
        if self.requests.pop((chat.id, int(params["user_id"])), None) is None:
            raise ApiError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        return True

    def _may_message(self, token: str, chat_id: int) -> bool:
        if (token, chat_id) in self.started:
            return True
        return any(
            r.user_chat_id == chat_id and self.now() - r.date <= JOIN_WINDOW_S
            for r in self.requests.values()
        )

    def m_sendmessage(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        text = params.get("text")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self.chats and not self._may_message(token, chat_id):
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        self._message_id += 1
        chat = {"id": chat_id, "type": "private", "first_name": "Ann"}
        message: dict[str, Any] = {"message_id": self._message_id, "date": self.now(),
                                   "chat": chat, "from": self.bots[token],
                                   "text": str(text)}  # fmt: skip
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.sent.append({"chat_id": chat_id, "text": str(text), "at": self.now(),
                          "reply_markup": params.get("reply_markup")})  # fmt: skip
        return message

    def m_setwebhook(self, token: str, params: dict[str, Any]) -> bool:
        secret = params.get("secret_token")
        if secret is not None and not (
            1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
        ):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhooks[token] = {"url": params.get("url", ""), "secret_token": secret,
                                "allowed_updates": params.get("allowed_updates")}  # fmt: skip
        return True

    def m_deletewebhook(self, token: str, params: dict[str, Any]) -> bool:
        self.webhooks.pop(token, None)
        return True

    def m_getwebhookinfo(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        hook = self.webhooks.get(token, {})
        return {"url": hook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates.get(token, []))}  # fmt: skip

    async def m_getupdates(self, token: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhooks.get(token, {}).get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active;"
                                " use deleteWebhook to delete the webhook first")  # fmt: skip
        if "allowed_updates" in params:
            self.webhooks.setdefault(token, {"url": ""})["allowed_updates"] = params[
                "allowed_updates"
            ]
        offset = int(params.get("offset") or 0)
        queue = self.updates.setdefault(token, [])
        queue[:] = [u for u in queue if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        if not queue and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), min(timeout, 2.0))
        limit = int(params.get("limit") or 100)
        return list(queue[:limit])


@contextlib.contextmanager
def threaded(fake: FakeTelegram) -> Iterator[FakeTelegram]:
    """Serve ``fake`` from its own thread and event loop (for synchronous tests and the docs
    runner). Test helpers that push updates may be called from any thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-telegram", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fake.__aenter__(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.__aexit__(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
