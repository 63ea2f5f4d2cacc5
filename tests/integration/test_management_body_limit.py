"""The 1 MiB body limit answers 413 on the management API too, not a 400."""

from __future__ import annotations

import httpx

from tests.conftest import SpaceKeys


class TestManagementBodyLimit:
    async def test_link_body_over_one_mib_is_413_payload_too_large(
        self, http: httpx.AsyncClient, space: SpaceKeys
    ) -> None:
        big = {"slug": "big", "kind": "web", "target_url": "https://o.example/?" + "x" * 2**20}
        r = await http.post(f"/api/spaces/{space.slug}/links", json=big, headers=space.auth)
        assert r.status_code == 413
        assert r.json() == {
            "ok": False,
            "error": {
                "code": "payload_too_large",
                "message": "The body is larger than 1 MiB.",
                "field": None,
            },
        }
        listed = await http.get(f"/api/spaces/{space.slug}/links", headers=space.auth)
        assert listed.json() == []
