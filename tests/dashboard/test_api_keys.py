"""Settings → API Keys: created through mask.auth.service, shown once, usable with the API, revocable."""

from __future__ import annotations

import re

import httpx
import pytest

from mask.app import MaskApp
from tests.dashboard.conftest import make_person

NEW_KEY = re.compile(r'id="new-key"[^>]*value="(mk_live_[^"]+)"')


async def test_a_key_from_the_dashboard_works_with_its_scopes_and_is_shown_once(
    app: MaskApp, client: httpx.AsyncClient
) -> None:
    person = await make_person(app, "ada@example.com")
    keys_page = await person.http.get(f"{person.base}/settings/keys")
    assert keys_page.status_code == 200 and 'value="links:read" checked' in keys_page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', keys_page.text)
    assert csrf is not None
    created = await person.http.post(
        f"{person.base}/settings/keys", data={"name": "CI", "scopes": ["links:read"], "csrf_token": csrf.group(1)}
    )
    # Post/redirect/get: the key is on the page the form leads to, once; a reload shows it no more.
    assert created.status_code == 303 and created.headers["location"] == f"{person.base}/settings/keys"
    shown = await person.http.get(created.headers["location"])
    assert shown.headers["cache-control"] == "no-store"
    token = NEW_KEY.search(shown.text)
    assert token and token.group(1) not in created.headers["location"]
    assert not NEW_KEY.search((await person.http.get(f"{person.base}/settings/keys")).text)
    key = token.group(1)
    headers = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/v1/links", headers=headers)).status_code == 200
    refused = await client.post("/v1/links", headers=headers, json={"url": "https://example.com"})
    assert refused.status_code == 403 and refused.json()["error"]["required_scope"] == "links:write"
    listing = await person.http.get(f"{person.base}/settings/keys")
    assert key not in listing.text and key[:12] in listing.text and "CI" in listing.text
    key_id = re.search(r"/settings/keys/(key_\w+)/revoke", listing.text)
    assert key_id
    revoked = await person.post(f"{person.base}/settings/keys/{key_id.group(1)}/revoke")
    assert revoked.status_code == 303
    assert (await client.get("/v1/links", headers=headers)).status_code == 401
    assert "Revoked" in (await person.http.get(f"{person.base}/settings/keys")).text


async def test_a_key_needs_a_known_scope(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    none = await person.post(f"{person.base}/settings/keys", {"name": "x"})
    assert none.status_code == 422 and 'id="e-scopes">Choose at least one scope' in none.text
    unknown = await person.post(f"{person.base}/settings/keys", {"name": "x", "scopes": "everything:write"})
    assert unknown.status_code == 422 and "Unknown scope" in unknown.text and not NEW_KEY.search(unknown.text)


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_enabled": True}])
async def test_the_workspace_page_shows_the_current_rate_limit_window(app: MaskApp, client: httpx.AsyncClient) -> None:
    person = await make_person(app, "ada@example.com")
    before = await person.http.get(f"{person.base}/settings")
    assert re.search(r"<strong>0 / 60</strong>", before.text) and "No API requests" in before.text
    created = await person.post(f"{person.base}/settings/keys", {"name": "meter", "scopes": "links:read"})
    key = NEW_KEY.search((await person.http.get(created.headers["location"])).text)
    assert key
    for _ in range(3):
        answer = await client.get("/v1/links", headers={"Authorization": f"Bearer {key.group(1)}"})
        assert answer.headers["x-ratelimit-limit"] == "60"
    after = await person.http.get(f"{person.base}/settings")
    assert re.search(r"<strong>3 / 60</strong>", after.text), "the page counts what the API counted"
    again = await person.http.get(f"{person.base}/settings")
    assert re.search(r"<strong>3 / 60</strong>", again.text), "looking does not count as a request"
