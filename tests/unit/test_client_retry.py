"""The client's retry policy: pure functions, tested without any I/O or sleeping."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from xtracker.client._retry import (
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    retryable_exception,
    retryable_status,
)

NOW = 1_764_000_000.0


class TestRetryableStatus:
    @pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
    def test_timeouts_rate_limits_and_server_errors_are_retried(self, status: int) -> None:
        assert retryable_status(status)

    @pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 409, 413, 422])
    def test_other_answers_are_final(self, status: int) -> None:
        assert not retryable_status(status)


class TestRetryableException:
    @pytest.mark.parametrize(
        "exc", [httpx.ConnectError("x"), httpx.ConnectTimeout("x"), httpx.PoolTimeout("x")]
    )
    def test_a_request_that_never_left_is_always_retried(self, exc: httpx.TransportError) -> None:
        assert retryable_exception(exc, idempotent=False)

    @pytest.mark.parametrize(
        "exc",
        [
            httpx.ReadTimeout("x"),
            httpx.WriteTimeout("x"),
            httpx.ReadError("x"),
            httpx.RemoteProtocolError("x"),
        ],
    )
    def test_a_request_that_may_have_arrived_is_retried_only_if_idempotent(
        self, exc: httpx.TransportError
    ) -> None:
        assert retryable_exception(exc, idempotent=True)
        assert not retryable_exception(exc, idempotent=False)

    def test_a_local_mistake_is_never_retried(self) -> None:
        assert not retryable_exception(httpx.UnsupportedProtocol("x"), idempotent=True)
        assert not retryable_exception(httpx.LocalProtocolError("x"), idempotent=True)


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("header", "seconds"),
        [("2", 2.0), (" 1.5 ", 1.5), ("0", 0.0), ("-3", 0.0), (None, None), ("soon", None)],
    )
    def test_reads_seconds(self, header: str | None, seconds: float | None) -> None:
        assert parse_retry_after(header, now=NOW) == seconds

    def test_reads_an_http_date(self) -> None:
        header = email.utils.formatdate(NOW + 30, usegmt=True)
        assert parse_retry_after(header, now=NOW) == 30.0

    def test_a_date_in_the_past_means_now(self) -> None:
        header = email.utils.formatdate(NOW - 30, usegmt=True)
        assert parse_retry_after(header, now=NOW) == 0.0

    def test_nan_is_ignored(self) -> None:
        assert parse_retry_after("nan", now=NOW) is None


class TestBackoffDelay:
    def test_full_jitter_spans_zero_to_the_exponential_bound(self) -> None:
        assert backoff_delay(0, backoff=0.5, cap=8, rand=0.0) == 0.0
        assert backoff_delay(0, backoff=0.5, cap=8, rand=1.0) == 0.5
        assert backoff_delay(2, backoff=0.5, cap=8, rand=1.0) == 2.0
        assert backoff_delay(2, backoff=0.5, cap=8, rand=0.5) == 1.0

    def test_is_capped(self) -> None:
        assert backoff_delay(10, backoff=0.5, cap=8, rand=1.0) == 8.0

    def test_a_huge_attempt_does_not_overflow(self) -> None:
        assert backoff_delay(5000, backoff=0.5, cap=8, rand=1.0) == 8.0


class TestRetryPolicy:
    def test_gives_up_after_max_retries(self) -> None:
        policy = RetryPolicy(max_retries=2, backoff=0.5)
        assert policy.delay(1, retry_after=None, rand=1.0) == 1.0
        assert policy.delay(2, retry_after=None, rand=1.0) is None

    def test_honours_retry_after_over_the_backoff(self) -> None:
        assert RetryPolicy(backoff=0.5).delay(0, retry_after=7.0, rand=1.0) == 7.0

    def test_a_retry_after_beyond_the_cap_gives_up(self) -> None:
        policy = RetryPolicy(backoff=0.5, max_retry_after=60)
        assert policy.delay(0, retry_after=61.0, rand=1.0) is None

    def test_backoff_zero_turns_every_wait_off(self) -> None:
        policy = RetryPolicy(max_retries=3, backoff=0)
        assert policy.delay(0, retry_after=30.0, rand=1.0) == 0.0
        assert policy.delay(2, retry_after=None, rand=1.0) == 0.0
        assert policy.delay(3, retry_after=None, rand=1.0) is None

    @pytest.mark.parametrize("options", [{"max_retries": -1}, {"backoff": -1.0}])
    def test_refuses_negative_settings(self, options: dict[str, float]) -> None:
        with pytest.raises(ValueError):
            RetryPolicy(**options)  # type: ignore[arg-type]
