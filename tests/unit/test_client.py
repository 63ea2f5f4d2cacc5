"""The client SDK against a MockTransport that plays the XTRACKER server."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from typing import Any

import httpx
import pytest

from xtracker.client import (
    APIError,
    AsyncClient,
    AuthenticationError,
    BindResult,
    Client,
    ConflictError,
    EventResult,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
    __version__,
)

NOW = 1_764_000_000_000
BASE = "https://track.example.com"
SECRET = "xt_live_secret"


class FrozenClock:
    def now_ms(self) -> int:
        return NOW


def queued(inbox_id: str = "inb_1", **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "status": "queued", "inbox_id": inbox_id, **extra})


def error(status: int, code: str, field: str | None = None, **headers: str) -> httpx.Response:
    body = {"ok": False, "error": {"code": code, "message": f"{code} happened", "field": field}}
    return httpx.Response(status, json=body, headers=headers)


class FakeServer:
    """Answers from a script (the last answer repeats) and records every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    @property
    def bodies(self) -> list[bytes]:
        return [request.content for request in self.requests]

    def json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def make_async(server: FakeServer, **options: Any) -> AsyncClient:
    options = {"backoff": 0, "clock": FrozenClock()} | options
    return AsyncClient(BASE, SECRET, transport=httpx.MockTransport(server), **options)


def make_sync(server: FakeServer, **options: Any) -> Client:
    options = {"backoff": 0, "clock": FrozenClock()} | options
    return Client(BASE, SECRET, transport=httpx.MockTransport(server), **options)


class TestSendEvent:
    async def test_sends_only_the_given_fields_with_a_pinned_occurred_at_ms(self) -> None:
        server = FakeServer(queued())
        async with make_async(server) as xt:
            await xt.send_event("contact", uid="u1")
        assert server.bodies == [b'{"event":"contact","uid":"u1","occurred_at_ms":%d}' % NOW]

    async def test_sends_every_field_when_all_are_given(self) -> None:
        server = FakeServer(queued())
        async with make_async(server) as xt:
            await xt.send_event(
                "deposit", uid="u1", value=Decimal("25.00"), currency="EUR", eid="tx-42",
                occurred_at_ms=NOW - 5, tg_id=555123,
            )  # fmt: skip
        assert server.json() == {
            "event": "deposit", "uid": "u1", "value": "25.00", "currency": "EUR",
            "eid": "tx-42", "occurred_at_ms": NOW - 5, "tg_id": 555123,
        }  # fmt: skip

    async def test_posts_to_events_with_bearer_user_agent_and_json_headers(self) -> None:
        server = FakeServer(queued())
        async with make_async(server) as xt:
            await xt.send_event("contact", uid="u1")
        request = server.requests[0]
        assert (request.method, str(request.url)) == ("POST", f"{BASE}/events")
        assert request.headers["Authorization"] == f"Bearer {SECRET}"
        assert request.headers["User-Agent"] == f"xtracker-python/{__version__}"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Accept"] == "application/json"

    async def test_keeps_the_path_of_a_base_url(self) -> None:
        server = FakeServer(queued())
        transport = httpx.MockTransport(server)
        async with AsyncClient("https://example.com/xt", SECRET, transport=transport) as xt:
            await xt.send_event("contact", uid="u1")
        assert str(server.requests[0].url) == "https://example.com/xt/events"

    @pytest.mark.parametrize(
        ("value", "sent"),
        [
            (Decimal("25.00"), '"25.00"'),
            (Decimal("1E+2"), '"100"'),
            ("19.99", '"19.99"'),
            (25, "25"),
        ],
    )
    async def test_sends_money_as_a_string_or_an_integer_never_a_float(
        self, value: Any, sent: str
    ) -> None:
        server = FakeServer(queued())
        async with make_async(server) as xt:
            await xt.send_event("deposit", uid="u1", value=value)
        assert f'"value":{sent},'.encode() in server.bodies[0]

    @pytest.mark.parametrize(
        "call",
        [
            {"event": 1},
            {"event": "deposit", "value": 25.0},
            {"event": "deposit", "value": True},
            {"event": "contact", "tg_id": "555"},
            {"event": "contact", "occurred_at_ms": 1.5},
            {"event": "contact", "uid": 7},
        ],
    )
    async def test_refuses_a_wrong_type_before_any_request(self, call: dict[str, Any]) -> None:
        server = FakeServer(queued())
        async with make_async(server) as xt:
            with pytest.raises(TypeError):
                await xt.send_event(**call)
        assert server.requests == []

    async def test_lets_the_server_judge_an_unknown_event_name(self) -> None:
        server = FakeServer(error(422, "unknown_event", field="event"))
        async with make_async(server) as xt:
            with pytest.raises(ValidationError) as caught:
                await xt.send_event("purchase", uid="u1")
        assert server.json()["event"] == "purchase"
        assert (caught.value.status_code, caught.value.code) == (422, "unknown_event")
        assert caught.value.field == "event"

    async def test_returns_a_queued_result_with_warnings(self) -> None:
        server = FakeServer(queued("inb_9", warnings=["value is ignored for contact"]))
        async with make_async(server) as xt:
            result = await xt.send_event("contact", uid="u1", value="5")
        assert result == EventResult("queued", "inb_9", ("value is ignored for contact",))
        assert not result.duplicate

    async def test_returns_a_duplicate_result(self) -> None:
        answer = {"ok": True, "status": "duplicate", "inbox_id": "inb_1"}
        server = FakeServer(httpx.Response(200, json=answer))
        async with make_async(server) as xt:
            result = await xt.send_event("deposit", uid="u1", eid="tx-42")
        assert result.duplicate and result.warnings == ()

    async def test_pins_distinct_times_for_events_in_the_same_millisecond(self) -> None:
        server = FakeServer(queued())
        async with make_async(server) as xt:
            for _ in range(3):
                await xt.send_event("deposit", uid="u1", value="5")
        assert [server.json(i)["occurred_at_ms"] for i in range(3)] == [NOW, NOW + 1, NOW + 2]


class TestRetry:
    async def test_retry_after_503_resends_the_identical_body(self) -> None:
        server = FakeServer(error(503, "unavailable"), queued())
        async with make_async(server) as xt:
            result = await xt.send_event("deposit", uid="u1", value="25.00")
        assert result.status == "queued"
        assert len(server.bodies) == 2 and server.bodies[0] == server.bodies[1]
        assert server.json(1)["occurred_at_ms"] == NOW

    async def test_retry_after_a_connect_error_resends_the_identical_body(self) -> None:
        server = FakeServer(httpx.ConnectError("refused"), queued())
        async with make_async(server) as xt:
            await xt.send_event("subscribed", uid="u1")
        assert len(server.bodies) == 2 and server.bodies[0] == server.bodies[1]

    async def test_retry_after_a_read_timeout_resends_the_identical_body(self) -> None:
        server = FakeServer(httpx.ReadTimeout("slow"), queued())
        async with make_async(server) as xt:
            await xt.send_event("registration", uid="u1", eid="user-7")
        assert len(server.bodies) == 2 and server.bodies[0] == server.bodies[1]

    async def test_429_waits_retry_after_then_resends_the_identical_body(self) -> None:
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        server = FakeServer(error(429, "rate_limited", **{"Retry-After": "2"}), queued())
        async with make_async(server, backoff=0.5, sleep=sleep) as xt:
            await xt.send_event("deposit", uid="u1", value="1")
        assert slept == [2.0]
        assert len(server.bodies) == 2 and server.bodies[0] == server.bodies[1]

    async def test_waits_grow_with_full_jitter_without_retry_after(self) -> None:
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        server = FakeServer(error(500, "internal_error"))
        async with make_async(server, backoff=0.5, sleep=sleep) as xt:
            with pytest.raises(ServerError):
                await xt.send_event("contact", uid="u1")
        assert len(slept) == 3
        assert all(0 <= wait <= 0.5 * 2**n for n, wait in enumerate(slept))

    async def test_a_retry_after_beyond_the_cap_is_raised_not_waited(self) -> None:
        server = FakeServer(error(429, "rate_limited", **{"Retry-After": "3600"}))
        async with make_async(server, backoff=0.5) as xt:
            with pytest.raises(RateLimitError) as caught:
                await xt.send_event("contact", uid="u1")
        assert caught.value.retry_after == 3600.0
        assert len(server.requests) == 1

    async def test_422_unknown_event_is_not_retried(self) -> None:
        server = FakeServer(error(422, "unknown_event", field="event"), queued())
        async with make_async(server) as xt:
            with pytest.raises(ValidationError) as caught:
                await xt.send_event("lead", uid="u1")
        assert (caught.value.code, caught.value.field) == ("unknown_event", "event")
        assert len(server.requests) == 1

    async def test_gives_up_after_max_retries_with_a_server_error(self) -> None:
        server = FakeServer(error(503, "unavailable"))
        async with make_async(server, max_retries=2) as xt:
            with pytest.raises(ServerError) as caught:
                await xt.send_event("contact", uid="u1")
        assert (caught.value.status_code, caught.value.code) == (503, "unavailable")
        assert len(server.requests) == 3

    async def test_connection_failures_become_a_transport_error_with_the_cause(self) -> None:
        server = FakeServer(httpx.ConnectError("refused"))
        async with make_async(server, max_retries=1) as xt:
            with pytest.raises(TransportError, match="after 2 attempts") as caught:
                await xt.send_event("contact", uid="u1")
        assert isinstance(caught.value.__cause__, httpx.ConnectError)
        assert len(server.requests) == 2

    async def test_max_retries_zero_sends_once(self) -> None:
        server = FakeServer(error(502, "bad_gateway"))
        async with make_async(server, max_retries=0) as xt:
            with pytest.raises(ServerError):
                await xt.send_event("contact", uid="u1")
        assert len(server.requests) == 1


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "cls"),
        [
            (400, ValidationError),
            (401, AuthenticationError),
            (403, PermissionDeniedError),
            (404, NotFoundError),
            (409, ConflictError),
            (413, PayloadTooLargeError),
            (422, ValidationError),
            (429, RateLimitError),
            (500, ServerError),
            (504, ServerError),
            (405, APIError),
        ],
    )
    async def test_each_status_raises_its_own_error(self, status: int, cls: type) -> None:
        server = FakeServer(error(status, "some_code", field="uid"))
        async with make_async(server, max_retries=0) as xt:
            with pytest.raises(cls) as caught:
                await xt.send_event("contact", uid="u1")
        assert type(caught.value) is cls
        assert (caught.value.status_code, caught.value.code) == (status, "some_code")
        assert (caught.value.message, caught.value.field) == ("some_code happened", "uid")

    async def test_401_raises_an_authentication_error_without_retrying(self) -> None:
        server = FakeServer(error(401, "invalid_token"))
        async with make_async(server) as xt:
            with pytest.raises(AuthenticationError, match="401 invalid_token"):
                await xt.send_event("contact", uid="u1")
        assert len(server.requests) == 1

    async def test_an_error_without_the_json_shape_keeps_its_status_class(self) -> None:
        server = FakeServer(httpx.Response(502, text="<html>Bad Gateway</html>"))
        async with make_async(server, max_retries=0) as xt:
            with pytest.raises(ServerError) as caught:
                await xt.send_event("contact", uid="u1")
        assert (caught.value.code, caught.value.message) == ("http_502", "Bad Gateway")

    @pytest.mark.parametrize(
        "answer",
        [
            httpx.Response(200, text="<html>welcome</html>"),
            httpx.Response(200, json={"ok": True}),
            httpx.Response(200, json={"ok": True, "status": "done", "inbox_id": "i"}),
            httpx.Response(200, json=["queued"]),
            httpx.Response(302, headers={"Location": "https://elsewhere.example/"}),
        ],
    )
    async def test_an_unexpected_answer_raises_a_protocol_error(
        self, answer: httpx.Response
    ) -> None:
        async with make_async(FakeServer(answer)) as xt:
            with pytest.raises(ProtocolError) as caught:
                await xt.send_event("contact", uid="u1")
        assert caught.value.status_code == answer.status_code

    @pytest.mark.parametrize(
        ("method", "answer"),
        [
            ("event", {"ok": False, "status": "queued", "inbox_id": "i"}),
            ("event", {"status": "queued"}),
            ("event", {"status": "queued", "inbox_id": "i", "warnings": "w"}),
            ("batch", {"ok": True, "results": [{"status": "queued"}]}),
            ("bind", {"ok": True, "matched": "yes"}),
            ("click", {"uid": ""}),
        ],
    )
    async def test_a_success_without_the_documented_fields_raises_a_protocol_error(
        self, method: str, answer: dict[str, Any]
    ) -> None:
        async with make_async(FakeServer(httpx.Response(200, json=answer))) as xt:
            calls = {
                "event": lambda: xt.send_event("contact", uid="u1"),
                "batch": lambda: xt.send_events([{"event": "contact", "uid": "u1"}]),
                "bind": lambda: xt.bind("u1", 5),
                "click": lambda: xt.click(),
            }
            with pytest.raises(ProtocolError):
                await calls[method]()

    def test_errors_survive_pickling(self) -> None:
        # S301: these bytes were pickled a line above, in-process; nothing untrusted is loaded.
        limited = RateLimitError(429, "rate_limited", "slow down", None, retry_after=3.0)
        copy = pickle.loads(pickle.dumps(limited))  # noqa: S301
        assert (type(copy), copy.code, copy.retry_after) == (RateLimitError, "rate_limited", 3.0)
        conflict = ConflictError(409, "already_bound", "no", "uid")
        conflict = pickle.loads(pickle.dumps(conflict))  # noqa: S301
        assert str(conflict) == "409 already_bound: no (field: uid)"


class TestSendEvents:
    async def test_posts_the_events_list_and_returns_results_in_order(self) -> None:
        results = [
            {"ok": True, "status": "queued", "inbox_id": "a"},
            {"ok": True, "status": "duplicate", "inbox_id": "b", "warnings": ["w"]},
        ]
        server = FakeServer(httpx.Response(200, json={"ok": True, "results": results}))
        async with make_async(server) as xt:
            answer = await xt.send_events(
                [
                    {"event": "contact", "uid": "u1", "occurred_at_ms": NOW - 9},
                    {"event": "deposit", "uid": "u1", "value": Decimal("9.50"), "eid": "t"},
                ]
            )
        assert answer == [EventResult("queued", "a"), EventResult("duplicate", "b", ("w",))]
        assert server.json() == {
            "events": [
                {"event": "contact", "uid": "u1", "occurred_at_ms": NOW - 9},
                {"event": "deposit", "uid": "u1", "value": "9.50", "eid": "t",
                 "occurred_at_ms": NOW},
            ]
        }  # fmt: skip
        assert str(server.requests[0].url) == f"{BASE}/events"

    async def test_pins_a_distinct_time_for_each_item_lacking_one(self) -> None:
        results = [{"ok": True, "status": "queued", "inbox_id": str(i)} for i in range(3)]
        server = FakeServer(httpx.Response(200, json={"ok": True, "results": results}))
        items = [{"event": "deposit", "uid": "u1", "value": "1"} for _ in range(3)]
        async with make_async(server) as xt:
            await xt.send_events(items)
        sent = [item["occurred_at_ms"] for item in server.json()["events"]]
        assert sent == [NOW, NOW + 1, NOW + 2]
        assert items[0] == {"event": "deposit", "uid": "u1", "value": "1"}  # caller's untouched

    async def test_a_retry_resends_the_identical_batch(self) -> None:
        ok = {"ok": True, "results": [{"ok": True, "status": "queued", "inbox_id": "a"}]}
        server = FakeServer(httpx.ReadError("reset"), httpx.Response(200, json=ok))
        async with make_async(server) as xt:
            await xt.send_events([{"event": "contact", "uid": "u1"}])
        assert len(server.bodies) == 2 and server.bodies[0] == server.bodies[1]

    async def test_an_empty_list_sends_nothing(self) -> None:
        server = FakeServer(queued())
        async with make_async(server) as xt:
            assert await xt.send_events([]) == []
        assert server.requests == []

    @pytest.mark.parametrize(
        "item",
        [
            "not a mapping",
            {"uid": "u1"},
            {"event": "contact", "uuid": "u1"},
            {"event": "deposit", "value": 1.5},
        ],
    )
    async def test_a_malformed_item_raises_type_error_before_any_request(
        self, item: dict[str, Any]
    ) -> None:
        server = FakeServer(queued())
        async with make_async(server) as xt:
            with pytest.raises(TypeError, match=r"events\[1\]"):
                await xt.send_events([{"event": "contact", "uid": "u0"}, item])
        assert server.requests == []

    async def test_a_result_count_mismatch_raises_a_protocol_error(self) -> None:
        server = FakeServer(httpx.Response(200, json={"ok": True, "results": []}))
        async with make_async(server) as xt:
            with pytest.raises(ProtocolError, match="1 results"):
                await xt.send_events([{"event": "contact", "uid": "u1"}])

    async def test_a_refused_item_refuses_the_batch(self) -> None:
        server = FakeServer(error(422, "unknown_event", field="events[1].event"))
        async with make_async(server) as xt:
            with pytest.raises(ValidationError) as caught:
                await xt.send_events([{"event": "contact", "uid": "u"}, {"event": "x", "uid": "u"}])
        assert caught.value.field == "events[1].event"


class TestBind:
    async def test_posts_uid_and_tg_id_and_returns_matched(self) -> None:
        server = FakeServer(httpx.Response(200, json={"ok": True, "matched": True}))
        async with make_async(server) as xt:
            assert await xt.bind("u1", 555123) == BindResult(matched=True)
        assert str(server.requests[0].url) == f"{BASE}/bind"
        assert server.bodies == [b'{"uid":"u1","tg_id":555123}']

    async def test_another_tg_id_raises_a_conflict_error(self) -> None:
        server = FakeServer(error(409, "already_bound", field="tg_id"))
        async with make_async(server) as xt:
            with pytest.raises(ConflictError) as caught:
                await xt.bind("u1", 2)
        assert caught.value.code == "already_bound"

    async def test_is_retried_after_a_read_timeout(self) -> None:
        ok = httpx.Response(200, json={"ok": True, "matched": False})
        server = FakeServer(httpx.ReadTimeout("slow"), ok)
        async with make_async(server) as xt:
            assert not (await xt.bind("u1", 555123)).matched
        assert len(server.requests) == 2

    @pytest.mark.parametrize(("uid", "tg_id"), [(1, 5), ("u1", "5"), ("u1", True)])
    async def test_refuses_wrong_types(self, uid: Any, tg_id: Any) -> None:
        async with make_async(FakeServer(queued())) as xt:
            with pytest.raises(TypeError):
                await xt.bind(uid, tg_id)


class TestClick:
    async def test_posts_only_the_given_fields_and_returns_the_uid(self) -> None:
        server = FakeServer(httpx.Response(200, json={"uid": "01JD0000000000000000000000"}))
        async with make_async(server) as xt:
            uid = await xt.click(link_slug="spring", raw_query="fbclid=abc&campaign_name=c1")
        assert uid == "01JD0000000000000000000000"
        assert str(server.requests[0].url) == f"{BASE}/clicks"
        assert server.json() == {"link_slug": "spring", "raw_query": "fbclid=abc&campaign_name=c1"}

    async def test_refuses_a_non_string_field_before_any_request(self) -> None:
        server = FakeServer(httpx.Response(200, json={"uid": "u9"}))
        async with make_async(server) as xt:
            with pytest.raises(TypeError, match="fbclid"):
                await xt.click(fbclid=5)  # type: ignore[arg-type]
        assert server.requests == []

    async def test_without_fields_posts_an_empty_object(self) -> None:
        server = FakeServer(httpx.Response(200, json={"uid": "u9"}))
        async with make_async(server) as xt:
            assert await xt.click() == "u9"
        assert server.bodies == [b"{}"]

    async def test_a_read_timeout_is_not_retried_since_the_click_may_exist(self) -> None:
        server = FakeServer(httpx.ReadTimeout("slow"), httpx.Response(200, json={"uid": "u9"}))
        async with make_async(server) as xt:
            with pytest.raises(TransportError):
                await xt.click(fbclid="abc")
        assert len(server.requests) == 1

    async def test_a_connect_error_is_retried(self) -> None:
        server = FakeServer(httpx.ConnectError("refused"), httpx.Response(200, json={"uid": "u9"}))
        async with make_async(server) as xt:
            assert await xt.click(fbclid="abc") == "u9"
        assert len(server.requests) == 2

    async def test_a_503_is_retried(self) -> None:
        server = FakeServer(error(503, "unavailable"), httpx.Response(200, json={"uid": "u9"}))
        async with make_async(server) as xt:
            assert await xt.click() == "u9"
        assert len(server.requests) == 2


class TestConstruction:
    def test_repr_never_shows_the_secret(self) -> None:
        with make_sync(FakeServer(queued())) as xt:
            assert SECRET not in repr(xt)

    @pytest.mark.parametrize("options", [{"max_retries": -1}, {"backoff": -0.1}, {"timeout": 0}])
    def test_refuses_nonsense_settings(self, options: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            Client(BASE, SECRET, **options)

    def test_refuses_an_empty_secret(self) -> None:
        with pytest.raises(ValueError):
            AsyncClient(BASE, " ")


class TestSyncClient:
    def test_sends_the_same_bytes_and_headers_as_the_async_client(self) -> None:
        server = FakeServer(queued())
        with make_sync(server) as xt:
            result = xt.send_event("deposit", uid="u1", value=Decimal("25.00"), eid="tx-42")
        assert result == EventResult("queued", "inb_1")
        assert server.bodies == [
            b'{"event":"deposit","uid":"u1","value":"25.00","eid":"tx-42","occurred_at_ms":%d}'
            % NOW
        ]
        assert server.requests[0].headers["Authorization"] == f"Bearer {SECRET}"
        assert server.requests[0].headers["User-Agent"] == f"xtracker-python/{__version__}"

    def test_retry_after_503_resends_the_identical_body(self) -> None:
        server = FakeServer(error(503, "unavailable"), httpx.ConnectError("refused"), queued())
        with make_sync(server) as xt:
            xt.send_event("contact", uid="u1")
        assert len(server.bodies) == 3 and len(set(server.bodies)) == 1

    def test_429_sleeps_what_retry_after_says(self) -> None:
        slept: list[float] = []
        server = FakeServer(error(429, "rate_limited", **{"Retry-After": "1"}), queued())
        with make_sync(server, backoff=0.5, sleep=slept.append) as xt:
            xt.send_event("contact", uid="u1")
        assert slept == [1.0]
        assert server.bodies[0] == server.bodies[1]

    def test_422_raises_a_validation_error_without_retrying(self) -> None:
        server = FakeServer(error(422, "unknown_event", field="event"))
        with make_sync(server) as xt, pytest.raises(ValidationError) as caught:
            xt.send_event("lead", uid="u1")
        assert (caught.value.code, caught.value.field) == ("unknown_event", "event")
        assert len(server.requests) == 1

    def test_401_raises_an_authentication_error(self) -> None:
        server = FakeServer(error(401, "invalid_token"))
        with make_sync(server) as xt, pytest.raises(AuthenticationError):
            xt.send_event("contact", uid="u1")

    def test_send_events_returns_results_in_order(self) -> None:
        results = [{"ok": True, "status": s, "inbox_id": s} for s in ("duplicate", "queued")]
        server = FakeServer(httpx.Response(200, json={"ok": True, "results": results}))
        with make_sync(server) as xt:
            answer = xt.send_events(
                [{"event": "contact", "uid": "a"}, {"event": "contact", "uid": "b"}]
            )
        assert [r.status for r in answer] == ["duplicate", "queued"]
        assert [e["uid"] for e in server.json()["events"]] == ["a", "b"]

    def test_send_events_with_an_empty_list_sends_nothing(self) -> None:
        server = FakeServer(queued())
        with make_sync(server) as xt:
            assert xt.send_events([]) == []
        assert server.requests == []

    def test_bind_and_click(self) -> None:
        server = FakeServer(
            httpx.Response(200, json={"uid": "u9"}), httpx.Response(200, json={"matched": True})
        )
        with make_sync(server) as xt:
            assert xt.click(campaign_name="c1") == "u9"
            assert xt.bind("u9", 7).matched
        assert server.bodies == [b'{"campaign_name":"c1"}', b'{"uid":"u9","tg_id":7}']

    def test_transport_failures_raise_a_transport_error(self) -> None:
        server = FakeServer(httpx.ConnectTimeout("slow"))
        with make_sync(server, max_retries=2) as xt, pytest.raises(TransportError):
            xt.bind("u1", 5)
        assert len(server.requests) == 3
