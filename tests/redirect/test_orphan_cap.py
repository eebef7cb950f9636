"""A scanner's flood of orphan hits is answered but recorded only up to MASK_ORPHAN_HITS_PER_MINUTE per workspace
(per worker and minute); clicks on links are never capped."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from tests.conftest import Tenant, TenantFactory
from tests.redirect.helpers import BROWSER, add_domain, create_link, stored_clicks


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"orphan_hits_per_minute": 3}


async def test_orphan_hits_beyond_the_cap_are_answered_but_not_recorded(
    client: httpx.AsyncClient, tenant: Tenant, make_tenant: TenantFactory, app: MaskApp
) -> None:
    await add_domain(client, app, tenant, "go.brand.test")
    other = await make_tenant()
    await add_domain(client, app, other, "go.other.test")
    await create_link(client, tenant, slug="real", domain="go.brand.test")
    headers = {"User-Agent": BROWSER, "Host": "go.brand.test"}
    for n in range(10):
        assert (await client.get(f"/scan-{n}", headers=headers)).status_code == 404
    assert (await client.get("/", headers={"User-Agent": BROWSER, "Host": "go.other.test"})).status_code == 404
    for _ in range(5):
        assert (await client.get("/real", headers=headers)).status_code == 302
    stored = await stored_clicks(app)
    mine = [c.path for c in stored if c.workspace_id == tenant.workspace_id and c.orphan_type]
    assert mine == ["/scan-0", "/scan-1", "/scan-2"]  # the cap, within the minute since the first
    assert [c.orphan_type for c in stored if c.workspace_id == other.workspace_id] == ["domain_root"]
    assert sum(1 for c in stored if c.orphan_type is None) == 5  # clicks are never capped
    assert app.services.clicks.tracker.orphans.dropped == 7


async def test_hits_on_a_spent_click_limit_share_the_workspaces_orphan_cap(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await add_domain(client, app, tenant, "go.brand.test")
    await create_link(client, tenant, slug="once", max_clicks=1)
    headers = {"User-Agent": BROWSER}
    assert [(await client.get("/once", headers=headers)).status_code for _ in range(3)] == [302, 410, 410]
    for n in range(3):  # the cap of 3 has room for one more: the first of these
        assert (await client.get(f"/scan-{n}", headers={**headers, "Host": "go.brand.test"})).status_code == 404
    assert (await client.get("/once", headers=headers)).status_code == 410  # answered, beyond the cap
    stored = await stored_clicks(app)
    assert [(c.orphan_type, c.path) for c in stored] == [
        (None, None),
        ("limit_reached", "/once"),
        ("limit_reached", "/once"),
        ("unknown_slug", "/scan-0"),
    ]
    assert app.services.clicks.tracker.orphans.dropped == 3
