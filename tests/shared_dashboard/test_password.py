"""A password-protected shared page: the form, wrong passwords, the per-address throttle, and the cookie (an
HMAC scoped to the page's path, never the password) that a new password or a new URL ends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from tests.analytics.helpers import click, create_link, record
from tests.conftest import Tenant
from tests.shared_dashboard.helpers import path_of, total

PASSWORD = "correct horse battery"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"shared_dashboard_password_attempts": 3}


async def protected(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> tuple[str, str]:
    link_id = await create_link(client, tenant, "secret")
    await record(app, [click(tenant, datetime.now(UTC) - timedelta(hours=1), link_id=link_id, country="NL")])
    response = await client.post(
        "/v1/shared-dashboards", headers=tenant.headers, json={"link_id": link_id, "password": PASSWORD}
    )
    assert response.status_code == 201 and response.json()["password_protected"] is True
    return response.json()["id"], path_of(response.json()["url"])


async def submit(client: httpx.AsyncClient, path: str, password: str) -> httpx.Response:
    form = await client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert found is not None, form.text
    return await client.post(path, data={"csrf_token": found.group(1), "password": password})


async def test_the_page_asks_for_the_password_and_a_right_one_sets_a_scoped_hmac_cookie(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    _, path = await protected(app, client, tenant)
    form = await client.get(path)
    assert form.status_code == 200 and 'type="password"' in form.text
    assert "data-total" not in form.text and "NL" not in form.text
    assert form.headers["x-robots-tag"].startswith("noindex")
    wrong = await submit(client, path, "not the password")
    assert wrong.status_code == 401 and "not right" in wrong.text and "data-total" not in wrong.text
    right = await submit(client, path, PASSWORD)
    assert right.status_code == 303 and right.headers["location"] == path
    cookie = right.headers["set-cookie"]
    assert cookie.startswith("mask_share=") and f"Path={path}" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    assert PASSWORD not in cookie and re.fullmatch(r"[0-9a-f]{64}", value)
    page = await client.get(path)
    assert page.status_code == 200 and total(page.text) == 1


async def test_over_https_the_cookie_is_secure(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    _, path = await protected(app, client, tenant)
    right = await submit(client, "https://localhost:8000" + path, PASSWORD)
    assert right.status_code == 303 and "Secure" in right.headers["set-cookie"]


async def test_wrong_passwords_are_throttled_per_address(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    _, path = await protected(app, client, tenant)
    for _ in range(3):
        assert (await submit(client, path, "guess guess")).status_code == 401
    throttled = await submit(client, path, PASSWORD)  # even the right one, once over the limit
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "Too many password attempts" in throttled.text and "data-total" not in throttled.text


async def test_a_right_password_gives_its_attempt_back(app: MaskApp, client: httpx.AsyncClient, tenant: Tenant) -> None:
    _, path = await protected(app, client, tenant)
    for _ in range(5):
        client.cookies.clear()  # a new visitor from the same address each time
        assert (await submit(client, path, PASSWORD)).status_code == 303


async def test_a_new_password_or_a_removed_page_ends_the_cookie(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    dashboard_id, path = await protected(app, client, tenant)
    assert (await submit(client, path, PASSWORD)).status_code == 303
    assert "data-total" in (await client.get(path)).text
    changed = await client.patch(
        f"/v1/shared-dashboards/{dashboard_id}", headers=tenant.headers, json={"password": "another passphrase"}
    )
    assert changed.status_code == 200
    again = await client.get(path)
    assert 'type="password"' in again.text and "data-total" not in again.text
    removed = await client.patch(
        f"/v1/shared-dashboards/{dashboard_id}", headers=tenant.headers, json={"password": None}
    )
    assert removed.json()["password_protected"] is False
    assert total((await client.get(path)).text) == 1  # no password: open to anyone with the URL


async def test_a_no_referrer_form_posts_with_origin_null_and_is_still_refused_from_another_site(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    """With `Referrer-Policy: no-referrer` a browser sends `Origin: null`: the form is same-origin when the browser
    says so (Sec-Fetch-Site), and refused as cross-site otherwise."""
    _, path = await protected(app, client, tenant)
    form = await client.get(path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    body = {"csrf_token": token.group(1), "password": PASSWORD}
    same = await client.post(path, data=body, headers={"origin": "null", "sec-fetch-site": "same-origin"})
    assert same.status_code == 303
    for headers in ({"origin": "null"}, {"origin": "null", "sec-fetch-site": "cross-site"}):
        client.cookies.delete("mask_share")
        refused = await client.post(path, data=body, headers=headers)
        assert refused.status_code == 403, headers
