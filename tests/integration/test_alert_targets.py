"""Alert webhooks go only to public addresses, and to the address that was checked: the
request is pinned to it, so a name cannot answer the check with a public address and the
connection with a private one (DNS rebinding)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.receivers import LocalServer
from xtracker.alert.notify import ensure_public_url, pinned
from xtracker.errors import ValidationFailed


class TestPublicTargets:
    @pytest.mark.parametrize(
        "url",
        ["http://127.0.0.1/hook", "http://localhost:9000/hook", "http://10.1.2.3/hook",
         "https://169.254.169.254/latest", "http://[::1]/hook", "http://app.localhost/hook"],
    )  # fmt: skip
    async def test_a_private_target_is_refused_naming_the_field(self, url: str) -> None:
        with pytest.raises(ValidationFailed) as refused:
            await ensure_public_url(url, allow_private=False)
        assert refused.value.field == "url"

    async def test_a_public_address_is_the_one_the_request_goes_to(self) -> None:
        assert await ensure_public_url("https://93.184.216.34/hook", False) == "93.184.216.34"

    async def test_private_targets_allowed_by_the_operator_are_not_pinned(self) -> None:
        assert await ensure_public_url("http://127.0.0.1/hook", allow_private=True) is None

    async def test_not_http_is_refused_even_when_private_targets_are_allowed(self) -> None:
        with pytest.raises(ValidationFailed):
            await ensure_public_url("ftp://hooks.example.com/x", allow_private=True)


class TestPinning:
    def test_https_keeps_the_name_for_host_and_certificate(self) -> None:
        url, headers, extensions = pinned("https://hooks.example.com:8443/a?b=1", "93.184.216.34")
        assert url == "https://93.184.216.34:8443/a?b=1"
        assert headers == {"host": "hooks.example.com:8443"}
        assert extensions == {"sni_hostname": "hooks.example.com"}

    def test_credentials_in_the_url_are_kept(self) -> None:
        url, headers, _ = pinned("https://ops:s3cret@hooks.example.com/a", "93.184.216.34")
        assert url == "https://ops:s3cret@93.184.216.34/a"
        assert headers == {"host": "hooks.example.com"}

    def test_ipv6_addresses_are_bracketed(self) -> None:
        url, headers, _ = pinned("http://hooks.example.com/a", "2606:2800:220:1::1")
        assert url == "http://[2606:2800:220:1::1]/a"
        assert headers == {"host": "hooks.example.com"}

    def test_a_url_with_an_address_is_left_as_it_is(self) -> None:
        assert pinned("http://93.184.216.34/a", "93.184.216.34") == (
            "http://93.184.216.34/a",
            {},
            {},
        )

    async def test_a_pinned_request_never_resolves_the_name_again(self) -> None:
        receiver = await LocalServer().start()
        try:
            # The name does not resolve at all: the request can only arrive through the pin.
            name = f"hooks.invalid:{receiver.port}"
            url, headers, extensions = pinned(f"http://{name}/alerts", "127.0.0.1")
            async with httpx.AsyncClient() as http:
                r = await http.post(url, content=b"{}", headers=headers, extensions=extensions)
            assert r.status_code == 200
            (seen,) = receiver.requests
            assert seen.path == "/alerts" and seen.headers["Host"] == name
        finally:
            await receiver.stop()
