"""The retry policy is a pure function: outcome + attempt number → Sent | Retry | Failed."""

from __future__ import annotations

import itertools
import random

from xtracker.outbox.policy import CircuitPolicy, Failed, Retry, RetryPolicy, Sent
from xtracker.sender.base import Outcome, parse_retry_after

POLICY = RetryPolicy()


def transient(status: int | None = 500, retry_after: float | None = None) -> Outcome:
    return Outcome("transient", status, 10, f"HTTP {status}", None, retry_after)


class TestRetryPolicy:
    def test_a_delivered_outcome_is_sent(self) -> None:
        assert POLICY.decide(Outcome("delivered", 200), 1) == Sent()

    def test_a_permanent_outcome_fails_at_once_without_burning_retries(self) -> None:
        decision = POLICY.decide(Outcome("permanent", 410, error="HTTP 410"), 1)
        assert decision == Failed("HTTP 410")

    def test_first_retry_is_about_thirty_seconds(self) -> None:
        for seed in range(50):
            decision = POLICY.decide(transient(), 1, random.Random(seed))
            assert isinstance(decision, Retry)
            assert 24_000 <= decision.after_ms <= 36_000

    def test_backoff_doubles_and_is_capped_at_six_hours(self) -> None:
        no_jitter = RetryPolicy(jitter=0)
        delays = [no_jitter.backoff_s(n) for n in range(1, 15)]
        assert delays[:4] == [30, 60, 120, 240]
        assert max(delays) == 6 * 3600
        assert all(b >= a for a, b in itertools.pairwise(delays))

    def test_jitter_never_exceeds_the_cap(self) -> None:
        rng = random.Random(1)
        assert all(POLICY.backoff_s(20, rng) <= 6 * 3600 for _ in range(200))

    def test_retries_last_about_three_days_in_all(self) -> None:
        no_jitter = RetryPolicy(jitter=0)
        total = sum(no_jitter.backoff_s(n) for n in range(1, no_jitter.max_attempts))
        assert 2.5 * 86400 <= total <= 3.5 * 86400

    def test_the_last_attempt_fails_permanently(self) -> None:
        decision = POLICY.decide(transient(503), POLICY.max_attempts)
        assert isinstance(decision, Failed)
        assert "gave up after 21 attempts" in decision.reason and "503" in decision.reason

    def test_retry_after_is_honoured_when_longer_than_the_backoff(self) -> None:
        decision = POLICY.decide(transient(429, retry_after=600), 1, random.Random(3))
        assert decision == Retry(600_000, "HTTP 429")

    def test_retry_after_shorter_than_the_backoff_does_not_shorten_it(self) -> None:
        decision = POLICY.decide(transient(429, retry_after=1), 5, random.Random(3))
        assert isinstance(decision, Retry) and decision.after_ms >= 0.8 * 480_000

    def test_the_testing_switch_makes_retries_due_at_once(self) -> None:
        assert RetryPolicy(no_delays=True).decide(transient(), 1) == Retry(0, "HTTP 500")

    def test_timeouts_and_connection_errors_are_retried(self) -> None:
        outcome = Outcome("transient", None, 15000, "timeout after 15 s")
        decision = POLICY.decide(outcome, 2)
        assert isinstance(decision, Retry) and decision.reason == "timeout after 15 s"


class TestRetryAfterHeader:
    def test_seconds(self) -> None:
        assert parse_retry_after("120", 0) == 120

    def test_http_date(self) -> None:
        assert parse_retry_after("Thu, 01 Jan 1970 00:02:00 GMT", 60) == 60

    def test_garbage_is_ignored(self) -> None:
        assert parse_retry_after("soon", 0) is None


class TestCircuitPolicy:
    def test_pause_doubles_up_to_ten_minutes(self) -> None:
        policy = CircuitPolicy(open_s=30)
        assert [policy.pause_ms(n) for n in (1, 2, 3, 10)] == [30_000, 60_000, 120_000, 600_000]

    def test_the_testing_switch_removes_the_pause(self) -> None:
        assert CircuitPolicy(no_delays=True).pause_ms(3) == 0
