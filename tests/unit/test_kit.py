"""Pure helpers: ids, money, dedup keys, secrets at rest."""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal

import pytest

from xtracker.kit.aio import uncancellable
from xtracker.kit.crypto import SecretBox
from xtracker.kit.hashing import dedup_key, dispatch_event_id, sha256_hex
from xtracker.kit.ids import is_valid_uid_text, new_uid, uid_time_ms
from xtracker.kit.money import InvalidMoney, format_amount, normalize_currency, parse_amount


class TestUid:
    def test_uid_is_short_url_safe_and_unguessable(self) -> None:
        uids = {new_uid() for _ in range(10_000)}
        assert len(uids) == 10_000
        assert all(len(u) == 26 and u.isalnum() and u == u.lower() for u in uids)

    def test_uids_sort_by_time_and_carry_it(self) -> None:
        ordered = [new_uid(1_765_432_100_000 + i) for i in range(500)]
        assert ordered == sorted(ordered)
        assert uid_time_ms(ordered[7]) == 1_765_432_100_007

    def test_a_uid_is_the_base32_of_48_bits_of_time_and_80_random_bits(self) -> None:
        # Read back as one 130-bit number (Crockford base32, most significant first): the
        # time on top, then 80 bits that are each set about half of the time, then 2 zeros.
        alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
        now = 1_765_432_100_007
        ones = [0] * 80
        samples = 4000
        for _ in range(samples):
            value = 0
            for ch in new_uid(now):
                value = value << 5 | alphabet.index(ch)
            assert value >> 82 == now and value & 3 == 0
            random80 = value >> 2
            for bit in range(80):
                ones[bit] += random80 >> bit & 1
        # mean 2000, standard deviation ~32: 300 off is ~9.5 deviations
        assert all(1700 < count < 2300 for count in ones), ones

    def test_forked_server_workers_never_mint_the_same_uid(self) -> None:
        # Random bytes are drawn 256 ids at a time; a worker forked after a draw must not
        # reuse what its parent still holds.
        new_uid(1_765_432_100_000)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: mint the same number of ids at the same millisecond
            os.write(write_end, " ".join(new_uid(1_765_432_100_000) for _ in range(50)).encode())
            os._exit(0)
        os.close(write_end)
        os.waitpid(pid, 0)
        with os.fdopen(read_end) as pipe:
            child = set(pipe.read().split())
        parent = {new_uid(1_765_432_100_000) for _ in range(50)}
        assert len(child) == 50
        assert not parent & child

    def test_received_uids_are_letters_digits_and_url_safe_marks_of_any_script(self) -> None:
        def by_the_rule(c: str) -> bool:  # the documented rule, character by character
            return c.isalnum() or c in "-_.~"

        assert all(
            is_valid_uid_text(c) == by_the_rule(c) for c in map(chr, range(sys.maxunicode + 1))
        )
        assert is_valid_uid_text("fb_01jd3m5x8k") and is_valid_uid_text("Ünïcødé-42")
        assert is_valid_uid_text("x" * 64) and not is_valid_uid_text("x" * 65)
        assert not any(map(is_valid_uid_text, ["", "a b", "a/b", "a\n", "a%20", "abc\n"]))


class TestMoney:
    @pytest.mark.parametrize(
        ("raw", "text"),
        [("25", "25.00"), (25, "25.00"), ("25.5", "25.50"), (0.1 + 0.2, "0.30"),
         ("19,99", "19.99"), ("1e2", "100.00"), ("0.005", "0.01")],
    )  # fmt: skip
    def test_amounts_are_decimals_with_two_places(self, raw: object, text: str) -> None:
        assert format_amount(parse_amount(raw)) == text

    @pytest.mark.parametrize("raw", ["abc", "-1", "nan", "inf", True, None, [], "1e20"])
    def test_bad_amounts_are_refused(self, raw: object) -> None:
        with pytest.raises(InvalidMoney):
            parse_amount(raw)

    def test_missing_value_renders_empty(self) -> None:
        assert format_amount(None) == ""
        assert format_amount(Decimal("7")) == "7.00"

    def test_currency_is_three_upper_letters(self) -> None:
        assert normalize_currency("eur") == "EUR"
        assert normalize_currency(None) == "USD"
        with pytest.raises(ValueError, match="three-letter"):
            normalize_currency("EURO")


class TestKeys:
    def test_dedup_key_is_the_documented_sha256(self) -> None:
        assert dedup_key("sp1", "abc123", "deposit", "tx-42") == sha256_hex(
            "sp1|abc123|deposit|tx-42"
        )

    def test_dispatch_id_is_stable_per_event_and_destination(self) -> None:
        assert dispatch_event_id("e1", "d1") == dispatch_event_id("e1", "d1")
        assert dispatch_event_id("e1", "d1") != dispatch_event_id("e1", "d2")
        assert len(dispatch_event_id("e1", "d1")) == 32


class TestSecretBox:
    def test_round_trip_and_wrong_key(self) -> None:
        box = SecretBox("k1")
        token = box.encrypt("EAAB-secret")
        assert token.startswith("v1:") and "EAAB" not in token
        assert box.decrypt(token) == "EAAB-secret"
        with pytest.raises(ValueError, match="cannot be decrypted"):
            SecretBox("k2").decrypt(token)


class TestUncancellable:
    async def test_work_finishes_however_often_the_caller_is_cancelled(self) -> None:
        release = asyncio.Event()
        finished: list[str] = []

        async def work() -> str:
            await release.wait()
            finished.append("done")
            return "result"

        caller = asyncio.create_task(uncancellable(work()))
        await asyncio.sleep(0)
        for _ in range(3):  # as anyio's cancel scopes do: again on every loop turn
            caller.cancel()
            await asyncio.sleep(0)
        assert not caller.done()  # still waiting for the work
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert finished == ["done"]

    async def test_without_a_cancel_the_result_or_the_error_comes_back(self) -> None:
        async def fails() -> None:
            raise ValueError("boom")

        assert await uncancellable(asyncio.sleep(0, "ok")) == "ok"
        with pytest.raises(ValueError, match="boom"):
            await uncancellable(fails())
