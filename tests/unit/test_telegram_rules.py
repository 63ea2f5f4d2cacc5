"""Pure rules of the Telegram funnel: message pacing, backoff, membership, error parsing."""

from __future__ import annotations

from xtracker.telegram.client import (
    TelegramBadRequest,
    TelegramForbidden,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorized,
    error_from,
)
from xtracker.telegram.service import SendPacer, backoff_ms, invite_name
from xtracker.telegram.updates import is_member, join_eid


class TestSendPacer:
    def test_one_chat_gets_one_message_a_second(self) -> None:
        pacer = SendPacer()
        assert pacer.wait_ms(1, 10_000) == 0
        pacer.sent(1, 10_000)
        assert pacer.wait_ms(1, 10_400) == 600
        assert pacer.wait_ms(2, 10_400) == 0  # another chat is not held up
        assert pacer.wait_ms(1, 11_000) == 0

    def test_thirty_a_second_in_all(self) -> None:
        pacer = SendPacer()
        for chat in range(30):
            assert pacer.wait_ms(chat, 5_000 + chat) == 0
            pacer.sent(chat, 5_000 + chat)
        assert pacer.wait_ms(99, 5_100) == 900  # until the first of the 30 is a second old
        assert pacer.wait_ms(99, 6_000) == 0


def test_backoff_doubles_from_five_seconds_and_is_capped_at_ten_minutes() -> None:
    assert [backoff_ms(n) for n in (1, 2, 3)] == [5_000, 10_000, 20_000]
    assert backoff_ms(20) == 600_000


def test_invite_names_fit_telegrams_32_characters() -> None:
    assert invite_name("spring") == "spring"
    assert len(invite_name("x" * 64)) == 32


def test_membership_follows_telegrams_statuses() -> None:
    assert is_member({"status": "member"}) and is_member({"status": "creator"})
    assert is_member({"status": "restricted", "is_member": True})
    assert not is_member({"status": "restricted", "is_member": False})
    assert not is_member({"status": "left"}) and not is_member({"status": "kicked"})
    assert not is_member(None)


def test_the_join_eid_is_one_per_user_and_channel() -> None:
    assert join_eid(-1001, 5) == "tg-join:-1001:5"


class TestErrorParsing:
    def test_flood_control_carries_retry_after(self) -> None:
        body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3}}  # fmt: skip
        error = error_from("sendMessage", 429, body)
        assert isinstance(error, TelegramRetryAfter) and error.retry_after == 3
        assert error.description.startswith("Too Many Requests")

    def test_status_codes_map_to_kinds(self) -> None:
        def kind(code: int) -> type:
            return type(
                error_from("m", code, {"ok": False, "error_code": code, "description": "x"})
            )

        assert kind(400) is TelegramBadRequest
        assert kind(401) is TelegramUnauthorized
        assert kind(403) is TelegramForbidden
        assert kind(502) is TelegramServerError

    def test_a_body_that_is_not_the_bot_apis_still_gives_a_typed_error(self) -> None:
        error = error_from("getMe", 503, None)
        assert isinstance(error, TelegramServerError) and error.error_code == 503
