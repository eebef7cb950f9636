"""Every naughty string, in every free-text field: refused with a clear 422 or stored and echoed exactly."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx

from tests.conftest import Tenant, corpus_path

NAUGHTY: list[str] = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))


async def test_naughty_strings_round_trip_or_are_refused_cleanly(client: httpx.AsyncClient, tenant: Tenant) -> None:
    stored = refused = 0
    for index, text in enumerate(NAUGHTY):
        tag = text[:50] if text[:50].strip() else "blank"
        body = {
            "url": f"https://example.com/p?q={quote(text)}#{quote(text)}",
            "utm_source": text,
            "utm_campaign": text,
            "tags": [tag],
        }
        response = await client.post("/v1/links", json=body, headers=tenant.headers)
        assert response.status_code in (201, 422), f"{index}: {text!r} → {response.status_code} {response.text}"
        if response.status_code == 422:
            refused += 1
            assert response.json()["error"]["errors"], text
            continue
        stored += 1
        link = response.json()
        again = (await client.get(f"/v1/links/{link['id']}", headers=tenant.headers)).json()
        assert again["utm_source"] == text and again["utm_campaign"] == text, index
        assert again["tags"] == [tag.strip()], index
    assert stored > 450 and refused < 30


async def test_naughty_strings_as_slugs_and_search_never_break_the_api(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for text in NAUGHTY:
        response = await client.post(
            "/v1/links", json={"url": "https://example.com/", "slug": text}, headers=tenant.headers
        )
        assert response.status_code in (201, 409, 422), (text, response.text)
        listing = await client.get("/v1/links", params={"q": text[:200], "tag": text[:50]}, headers=tenant.headers)
        assert listing.status_code in (200, 422), (text, listing.text)
