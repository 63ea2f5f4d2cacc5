"""Event validation, macros, query parsing and the bot filter."""

from __future__ import annotations

import pytest

from xtracker.click.enrich import parse_user_agent
from xtracker.click.record import fbc_from_fbclid, parse_query
from xtracker.db.models.click import CAMPAIGN_FIELDS
from xtracker.errors import UnknownEvent, UnknownMacro, ValidationFailed
from xtracker.event.parse import parse_event
from xtracker.landing.links import LinkInfo
from xtracker.landing.page import LandingContent
from xtracker.landing.targets import click_macros
from xtracker.macro import render, validate_template

NOW = 1_765_432_100_000


class TestParseEvent:
    def test_defaults_and_subject(self) -> None:
        ev = parse_event({"event": "deposit", "uid": "abc", "value": "25"}, now_ms=NOW)
        assert (ev.value_cents, ev.currency, ev.occurred_at_ms) == (2500, "USD", NOW)
        assert (ev.subject, ev.discriminator) == ("abc", str(NOW))

    def test_eid_is_the_discriminator_and_tg_id_the_subject_without_uid(self) -> None:
        ev = parse_event({"event": "contact", "tg_id": "555", "eid": 7}, now_ms=NOW)
        assert (ev.subject, ev.discriminator, ev.tg_id) == ("tg:555", "7", 555)

    @pytest.mark.parametrize(
        ("data", "error", "field"),
        [({"uid": "a"}, ValidationFailed, "event"),
         ({"event": "Purchase", "uid": "a"}, UnknownEvent, "event"),
         ({"event": "contact"}, ValidationFailed, "uid"),
         ({"event": "contact", "uid": "a b"}, ValidationFailed, "uid"),
         ({"event": "deposit", "uid": "a", "value": "x"}, ValidationFailed, "value"),
         ({"event": "deposit", "uid": "a", "currency": "dollars"}, ValidationFailed, "currency"),
         ({"event": "contact", "uid": "a", "occurred_at_ms": 1_765_432_100}, ValidationFailed,
          "occurred_at_ms"),
         ({"event": "contact", "uid": "a", "tg_id": -5}, ValidationFailed, "tg_id")],
    )  # fmt: skip
    def test_bad_events_name_their_field(
        self, data: dict[str, object], error: type[Exception], field: str
    ) -> None:
        with pytest.raises(error) as caught:
            parse_event(data, now_ms=NOW)
        assert getattr(caught.value, "field", None) == field

    def test_deposit_without_value_records_without_revenue(self) -> None:
        assert parse_event({"event": "deposit", "uid": "a"}, now_ms=NOW).value_cents is None


class TestMacros:
    def test_documented_postback_example(self) -> None:
        url = render(
            "https://aff.example.com/postback?clickid={uid}&goal={canonical}&sum={value}&cur={currency}",
            {"uid": "abc123", "canonical": "deposit", "value": "25.00", "currency": "USD"},
        )
        assert (
            url == "https://aff.example.com/postback?clickid=abc123&goal=deposit&sum=25.00&cur=USD"
        )

    def test_values_are_url_encoded_and_missing_ones_empty(self) -> None:
        template = validate_template(
            "https://x.example/?n={campaign_name}&t={tg_id}&z={param.zone}"
        )
        assert template.render({"campaign_name": "a b&c", "param.zone": "9/1"}) == (
            "https://x.example/?n=a%20b%26c&t=&z=9%2F1"
        )

    def test_unknown_macro_is_refused_naming_it(self) -> None:
        with pytest.raises(UnknownMacro, match=r"\{click_id\}"):
            validate_template("https://x.example/?c={click_id}")

    def test_a_landing_target_takes_the_click_link_and_visit_parameters(self) -> None:
        template = validate_template(
            "https://o.example/?c={uid}&n={campaign_name}&s={sub2}&l={link}&z={param.zone}"
            "&q={param.none}&f={fbclid}&g={country}"
        )
        link = LinkInfo("L1", "S1", "s42", "web", template.source, None,
                        LandingContent("t", "x", "b", None, None), True, True, template)  # fmt: skip
        row = {name: None for name in CAMPAIGN_FIELDS}
        row |= {"uid": "u 1", "campaign_name": "A&B", "fbclid": "fb", "country": "DE"}
        macros = click_macros(link, row, {"zone": "7/1", "campaign_name": "ignored"})
        url = template.render(macros)
        assert url == "https://o.example/?c=u%201&n=A%26B&s=&l=s42&z=7%2F1&q=&f=fb&g=DE"
        # The macros read as a mapping too (every macro a web link may name, and only those).
        assert macros["link"] == "s42" and macros["param.zone"] == "7/1"
        assert "param.none" not in macros and "event" not in macros
        assert dict(macros)["campaign_name"] == "A&B" and len(dict(macros)) == len(macros)


class TestQueryAndCookies:
    def test_first_value_wins_and_escapes_decode(self) -> None:
        assert parse_query("a=1&a=2&b=%20x+y&c") == {"a": "1", "b": " x y", "c": ""}

    def test_fbc_format(self) -> None:
        assert fbc_from_fbclid("IwAR1", 1765432100000) == "fb.1.1765432100000.IwAR1"


class TestBotFilter:
    @pytest.mark.parametrize(
        "ua",
        ["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
         "TelegramBot (like TwitterBot)", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
         "WhatsApp/2.23.20.0", "Twitterbot/1.0", "curl/8.5.0", "python-requests/2.32", "",
         "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"],
    )  # fmt: skip
    def test_fetchers_are_flagged(self, ua: str) -> None:
        assert parse_user_agent(ua).is_bot

    @pytest.mark.parametrize(
        "ua",
        ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0]",
         "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 Telegram-Android/11.2.3",
         "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"],
    )  # fmt: skip
    def test_people_in_in_app_browsers_are_not(self, ua: str) -> None:
        assert not parse_user_agent(ua).is_bot
