"""Abuse end to end: screening every destination field against the blocklist, a refresh suspending the links
that point at a newly blocked site, suspended links and workspaces answering 451 without counting clicks, their
keys refused, restoring, and every step in the audit log."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from mask.abuse import service as abuse_service
from mask.app import MaskApp
from mask.db import session_scope
from mask.models.audit import AuditEntry
from tests.conftest import Tenant, TenantFactory
from tests.dashboard.conftest import make_person
from tests.redirect.helpers import BROWSER, create_link, stored_clicks

LIST = """# test list
evil.example
0.0.0.0 tracker.example
"1","2026-12-01","http://files.example/payload/","online","","malware_download","","",""
garbage line here
"""


BIO_PAGE: dict[str, Any] = {
    "handle": "spammer",
    "title": "Deals",
    "blocks": [{"type": "link", "title": "Deal", "url": "https://example.com/"}],
}


async def load(app: MaskApp, text: str = LIST, source: str = "default") -> abuse_service.BlocklistUpdate:
    async with session_scope(app.context.sessionmaker) as session:
        return await abuse_service.update_blocklist(session, text=text, source=source)


async def actions(app: MaskApp, workspace_id: str) -> list[str]:
    async with session_scope(app.context.sessionmaker) as session:
        rows = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.workspace_id == workspace_id).order_by(AuditEntry.at)
        )
        return list(rows.all())


def codes(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {error["param"]: error["code"] for error in response.json()["error"]["errors"]}


async def test_every_destination_field_refuses_a_blocked_site(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    result = await load(app)
    assert (result.entries, result.added, len(result.problems)) == (3, 3, 1)
    headers = tenant.headers

    blocked = [
        "https://evil.example/",
        "https://login.EVIL.example./x",
        "http://tracker.example",
        "http://files.example/payload/a.exe",
    ]
    for url in blocked:
        assert codes(await client.post("/v1/links", json={"url": url}, headers=headers)) == {
            "url": "destination_blocked"
        }, url
    body = {"url": "https://example.com/", "expired_url": "https://evil.example/x"}
    assert codes(await client.post("/v1/links", json=body, headers=headers)) == {"expired_url": "destination_blocked"}

    fine = ["https://notevil.example/", "https://files.example/other", "https://evil.example.org/"]
    for url in fine:
        assert (await client.post("/v1/links", json={"url": url}, headers=headers)).status_code == 201, url

    link = await create_link(client, tenant, url="https://example.com/ok")
    patched = await client.patch(f"/v1/links/{link['id']}", json={"url": "https://www.evil.example/"}, headers=headers)
    assert codes(patched) == {"url": "destination_blocked"}

    page: dict[str, Any] = {
        "handle": "ada",
        "title": "Ada",
        "blocks": [{"type": "link", "title": "Free money", "url": "https://evil.example/win"}],
    }
    refused = codes(await client.post("/v1/bio-pages", json=page, headers=headers))
    assert set(refused.values()) == {"destination_blocked"}


async def test_a_refresh_suspends_links_to_newly_blocked_sites_which_then_answer_451_and_count_nothing(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    alpha, beta = await make_tenant(), await make_tenant()
    bad = await create_link(client, alpha, slug="bad", url="https://shop.evil.example/deal")
    bad_later = await create_link(
        client, beta, slug="later", url="https://example.com/", expired_url="http://files.example/payload/x"
    )
    good = await create_link(client, alpha, slug="good", url="https://example.com/fine")
    assert (await client.get("/bad", headers={"User-Agent": BROWSER})).status_code == 302  # cached as a redirect

    result = await load(app)
    assert sorted(result.suspended) == sorted([bad["id"], bad_later["id"]])

    for slug in ("bad", "later"):
        page = await client.get(f"/{slug}", headers={"User-Agent": BROWSER})
        assert page.status_code == 451 and "location" not in page.headers
        assert "This link has been disabled." in page.text and "evil" not in page.text
    as_json = await client.get("/bad", headers={"Accept": "application/json"})
    assert (as_json.status_code, as_json.json()["error"]["code"]) == (451, "link_suspended")
    assert (await client.get("/good", headers={"User-Agent": BROWSER})).status_code == 302
    clicks = await stored_clicks(app)
    assert [click.link_id for click in clicks] == [bad["id"], good["id"]]  # the one before the refresh, and good

    shown = await client.get(f"/v1/links/{bad['id']}", headers=alpha.headers)
    assert shown.json()["suspended"] is True
    assert "link.suspended" in await actions(app, alpha.workspace_id)
    assert "link.suspended" in await actions(app, beta.workspace_id)

    # The operator restores one; the same list refreshed again does not suspend it a second time.
    async with session_scope(app.context.sessionmaker) as session:
        await abuse_service.restore(session, ref=bad["id"])
    assert (await client.get("/bad", headers={"User-Agent": BROWSER})).status_code == 302
    again = await load(app)
    assert (again.added, again.removed, again.suspended) == (0, 0, [])
    assert (await client.get("/bad", headers={"User-Agent": BROWSER})).status_code == 302
    assert "link.restored" in await actions(app, alpha.workspace_id)

    # A list shrinking unblocks destinations for new links; another source's entries stay.
    await load(app, "other-bad.example\n", source="extra")
    shrunk = await load(app, "tracker.example\n")
    assert (shrunk.entries, shrunk.removed) == (1, 2)
    assert (
        await client.post("/v1/links", json={"url": "https://evil.example/"}, headers=alpha.headers)
    ).status_code == 201
    refused = await client.post("/v1/links", json={"url": "https://other-bad.example/"}, headers=alpha.headers)
    assert codes(refused) == {"url": "destination_blocked"}


async def test_a_suspended_workspace_serves_no_link_and_its_keys_are_refused_until_restored(
    app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    bad, other = await make_tenant(slug="spammer"), await make_tenant()
    assert (await client.post("/v1/bio-pages", json=BIO_PAGE, headers=bad.headers)).status_code == 201
    assert (await client.get("/@spammer")).status_code == 200
    spam = await create_link(client, bad, slug="spam1", url="https://example.com/1")
    fine = await create_link(client, other, slug="fine1", url="https://example.com/2")
    assert (await client.get("/spam1", headers={"User-Agent": BROWSER})).status_code == 302

    async with session_scope(app.context.sessionmaker) as session:
        done = await abuse_service.suspend(session, ref="spammer", reason="spam campaign")
    assert (done.kind, done.id) == ("workspace", bad.workspace_id)

    assert (await client.get("/spam1", headers={"User-Agent": BROWSER})).status_code == 451
    assert (await client.get("/@spammer")).status_code == 404
    assert (await client.get("/fine1", headers={"User-Agent": BROWSER})).status_code == 302
    refused = await client.get("/v1/links", headers=bad.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "workspace_suspended")
    assert (await client.get("/v1/links", headers=other.headers)).status_code == 200
    link_clicks = [click.link_id for click in await stored_clicks(app) if click.link_id]  # bio page views aside
    assert link_clicks == [spam["id"], fine["id"]]

    async with session_scope(app.context.sessionmaker) as session:
        await abuse_service.restore(session, ref=bad.workspace_id)
    assert (await client.get("/spam1")).status_code == 302
    assert (await client.get("/@spammer")).status_code == 200
    assert (await client.get("/v1/links", headers=bad.headers)).status_code == 200
    assert {"workspace.suspended", "workspace.restored"} <= set(await actions(app, bad.workspace_id))


async def test_the_dashboard_marks_a_suspended_link(app: MaskApp) -> None:
    ada = await make_person(app, "ada@example.com")
    created = await ada.post(
        f"{ada.base}/links", {"url": "https://example.com/x", "slug": "sus"}, form_page=f"{ada.base}/links/new"
    )
    assert created.status_code == 303, created.text
    async with session_scope(app.context.sessionmaker) as session:
        done = await abuse_service.suspend(session, ref="localhost:8000/sus", reason="phishing")
    listing = await ada.http.get(f"{ada.base}/links")
    assert '<span class="badge badge-off">Suspended</span>' in listing.text
    detail = await ada.http.get(f"{ada.base}/links/{done.id}")
    assert "The operator of this server suspended this link" in detail.text


async def test_a_suspended_workspace_is_read_only_in_the_dashboard(app: MaskApp) -> None:
    ada = await make_person(app, "ada@example.com")
    async with session_scope(app.context.sessionmaker) as session:
        await abuse_service.suspend(session, ref=ada.workspace, reason="spam")
    assert (await ada.http.get(f"{ada.base}/links")).status_code == 200
    refused = await ada.post(f"{ada.base}/links", {"url": "https://example.com/"}, form_page=f"{ada.base}/links/new")
    assert refused.status_code == 403 and "suspended by the operator" in refused.text
