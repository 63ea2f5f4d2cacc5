"""Pure parts of custom domains and monitoring: host normalisation, the domain state machine,
threshold validation, notification text and retry delays."""

from __future__ import annotations

import pytest

from xtracker.alert.notify import backoff_s, message_text
from xtracker.alert.service import _check_params
from xtracker.config import Settings
from xtracker.db.models import CustomDomain
from xtracker.domain.dns import CheckResult
from xtracker.domain.service import apply_check, normalize_hostname, strip_host
from xtracker.errors import ValidationFailed

DAY = 86_400_000
OK = CheckResult(True, ("go.b.com", "origin.x"), "cname", None)
BAD = CheckResult(False, ("go.b.com",), None, "go.b.com has no CNAME record")


class TestHosts:
    @pytest.mark.parametrize(
        ("raw", "key"),
        [("Go.Brand.COM", "go.brand.com"), ("go.brand.com:8443", "go.brand.com"),
         ("www.go.brand.com", "go.brand.com"), ("go.brand.com.", "go.brand.com"),
         ("[::1]:8000", "::1"), ("2001:db8::1", "2001:db8::1"), ("", "")],
    )  # fmt: skip
    def test_the_routing_key_drops_case_port_dot_and_www(self, raw: str, key: str) -> None:
        assert strip_host(raw) == key

    def test_a_pasted_url_becomes_its_hostname(self) -> None:
        s = Settings(secret_key="x")
        assert normalize_hostname("https://Go.Brand.com/landing?x=1", s) == "go.brand.com"

    @pytest.mark.parametrize("raw", ["brand", "-bad-.com", "1.2.3.4", "a..b.com", "x" * 300])
    def test_names_that_cannot_be_domains_are_refused(self, raw: str) -> None:
        with pytest.raises(ValidationFailed):
            normalize_hostname(raw, Settings(secret_key="x"))


def _domain(state: str = "pending") -> CustomDomain:
    return CustomDomain(id="d1", space_id="s1", hostname="go.b.com", state=state,
                        verify_token="t", created_at_ms=0)  # fmt: skip


class TestDomainStates:
    def test_pending_stays_pending_until_the_record_is_there(self) -> None:
        d = _domain()
        assert apply_check(d, BAD, 1000, 7 * DAY) == "pending"
        assert d.last_error == BAD.error and d.failing_since_ms is None
        assert apply_check(d, OK, 2000, 7 * DAY) == "verified" and d.verified_at_ms == 2000

    def test_verified_then_failing_then_disabled_after_the_grace_period(self) -> None:
        d = _domain("verified")
        assert apply_check(d, BAD, 10, 7 * DAY) == "failing" and d.failing_since_ms == 10
        assert apply_check(d, BAD, 10 + 7 * DAY - 1, 7 * DAY) == "failing"
        assert apply_check(d, BAD, 10 + 7 * DAY, 7 * DAY) == "disabled"
        assert d.disabled_at_ms == 10 + 7 * DAY and d.failing_since_ms == 10

    def test_any_passing_check_verifies_again(self) -> None:
        d = _domain("disabled")
        d.failing_since_ms, d.disabled_at_ms = 1, 2
        assert apply_check(d, OK, 3, 7 * DAY) == "verified"
        assert (d.failing_since_ms, d.disabled_at_ms, d.last_error) == (None, None, None)
        assert d.last_chain == "go.b.com → origin.x"


class TestThresholds:
    def test_known_numbers_pass(self) -> None:
        assert _check_params("funnel_no_contact", {"min_clicks": 300, "reminder_hours": 0.5}) == {
            "min_clicks": 300, "reminder_hours": 0.5}  # fmt: skip

    @pytest.mark.parametrize(
        "params",
        [{"min_clicks": 2.5}, {"min_clicks": True}, {"min_clicks": -1}, {"unknown": 1},
         {"for_evaluations": 0}],
    )  # fmt: skip
    def test_bad_values_are_refused(self, params: dict[str, object]) -> None:
        with pytest.raises(ValidationFailed):
            _check_params("funnel_no_contact", params)


class TestNotifications:
    def test_the_telegram_text_escapes_html(self) -> None:
        payload = {"data": {"event": "firing", "title": "Dead link", "summary": "0 <clicks>",
                            "space": {"name": "A & B"},
                            "object": {"kind": "link", "name": "s1", "url": "https://t/s"}}}  # fmt: skip
        assert message_text(payload) == (
            "🔴 <b>FIRING</b> · Dead link\nA &amp; B — link <b>s1</b>\n0 &lt;clicks&gt;\nhttps://t/s"
        )

    def test_retries_back_off_to_an_hour(self) -> None:
        assert [backoff_s(n) for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]
