"""`/report`: the public's abuse form on every short domain, CSRF-safe, throttled per network, saying nothing
about the link; reports reach the operator and the link's workspace's audit log (without the reporter)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.abuse import AbuseReport
from mask.models.audit import AuditEntry
from tests.conftest import Tenant
from tests.redirect.helpers import add_domain, create_link

CUSTOM = "go.brand.test"


async def send_report(
    client: httpx.AsyncClient, *, short_url: str, reason: str = "phishing", details: str = "", host: str | None = None
) -> httpx.Response:
    """Open the form, then send it as a browser does (its cookie, its token, same-origin)."""
    headers = {"Host": host} if host else {}
    form = await client.get("/report", headers=headers)
    assert form.status_code == 200, form.text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text)
    assert token is not None
    data = {"short_url": short_url, "reason": reason, "details": details, "csrf_token": token.group(1)}
    return await client.post("/report", data=data, headers={**headers, "Sec-Fetch-Site": "same-origin"})


async def stored(app: MaskApp) -> list[AbuseReport]:
    async with session_scope(app.context.sessionmaker) as session:
        return list((await session.scalars(select(AbuseReport).order_by(AbuseReport.created_at))).all())


async def test_reports_from_the_default_and_a_custom_domain_are_stored_with_their_link(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await add_domain(client, app, tenant, CUSTOM)
    link = await create_link(client, tenant, slug="promo", url="https://example.com/")
    branded = await create_link(client, tenant, slug="deal", url="https://example.com/", domain=CUSTOM)

    prefilled = await client.get("/report?url=http://localhost:8000/promo%22%3E%3Cscript%3E")
    assert 'value="http://localhost:8000/promo&quot;&gt;&lt;script&gt;"' in prefilled.text
    assert "no-store" in prefilled.headers["cache-control"] and prefilled.headers["x-frame-options"] == "DENY"

    first = await send_report(client, short_url="http://localhost:8000/promo", details="fake bank")
    assert first.status_code == 200 and "Your report was received" in first.text
    second = await send_report(client, short_url="deal", reason="spam", host=CUSTOM)  # a bare slug: this domain
    assert second.status_code == 200
    nothing = await send_report(client, short_url="https://localhost:8000/no-such-link", reason="malware")
    assert nothing.status_code == 200 and "Your report was received" in nothing.text  # says nothing of the link

    reports = await stored(app)
    assert [(r.link_id, r.workspace_id, r.reason, r.status) for r in reports] == [
        (link["id"], tenant.workspace_id, "phishing", "open"),
        (branded["id"], tenant.workspace_id, "spam", "open"),
        (None, None, "malware", "open"),
    ]
    assert reports[0].details == "fake bank" and reports[0].reporter_ip_prefix is not None

    async with session_scope(app.context.sessionmaker) as session:
        entries = list((await session.scalars(select(AuditEntry).where(AuditEntry.action == "link.reported"))).all())
    assert [entry.target_id for entry in entries] == [link["id"], branded["id"]]
    assert all(entry.ip_prefix is None and entry.workspace_id == tenant.workspace_id for entry in entries)


async def test_a_report_without_the_forms_token_or_from_another_site_is_refused(
    app: MaskApp, client: httpx.AsyncClient
) -> None:
    data = {"short_url": "https://localhost:8000/x", "reason": "spam"}
    no_token = await client.post("/report", data=data)
    assert no_token.status_code == 400 and "The form expired" in no_token.text
    await client.get("/report")  # a cookie, but a forged token
    forged = await client.post("/report", data={**data, "csrf_token": "0" * 64})
    assert forged.status_code == 400
    cross = await client.post("/report", data=data, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    fetch = await client.post("/report", data=data, headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch.status_code == 403
    bad_reason = await send_report(client, short_url="https://localhost:8000/x", reason="boredom")
    assert bad_reason.status_code == 400 and "Choose what is wrong" in bad_reason.text
    empty = await send_report(client, short_url="  ")
    assert empty.status_code == 400
    assert (await client.put("/report")).status_code == 405
    assert await stored(app) == []


async def test_reports_are_throttled_per_network(app: MaskApp, client: httpx.AsyncClient) -> None:
    limit = app.context.settings.reports_per_hour
    for number in range(limit):
        assert (await send_report(client, short_url=f"https://localhost:8000/s{number}")).status_code == 200
    refused = await send_report(client, short_url="https://localhost:8000/one-more")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert len(await stored(app)) == limit


async def test_report_is_a_reserved_slug(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/v1/links", json={"url": "https://example.com", "slug": "report"}, headers=tenant.headers
    )
    assert response.status_code == 422 and response.json()["error"]["errors"][0]["code"] == "reserved_slug"
