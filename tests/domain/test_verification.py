"""Ownership: a claim is verified by its TXT record (looked up on a real DNS server on loopback), re-checked in
the background, and a verified claim wins over other workspaces' unverified ones."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from mask.app import MaskApp
from mask.kit.time import utcnow
from tests.conftest import Tenant, TenantFactory
from tests.dns_zone import Zone
from tests.domain.conftest import CNAME_TARGET, add, checker_of, events, publish, verify
from tests.domains import verify_domain
from tests.redirect.helpers import create_link
from tests.waiting import eventually


async def test_a_new_domain_is_pending_and_names_the_records_to_create(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    domain = await add(client, tenant, "Go.Brand.test")
    assert domain["verified"] is False
    verification = domain["verification"]
    assert verification["status"] == "pending" and verification["method"] == "dns_txt"
    assert verification["record"]["type"] == "TXT"
    assert verification["record"]["name"] == "_mask-challenge.go.brand.test"
    assert verification["record"]["value"].startswith("mask-verify=") and len(verification["record"]["value"]) > 40
    assert domain["routing"]["records"] == [
        {"type": "CNAME", "name": "go.brand.test", "value": CNAME_TARGET},
        {"type": "A", "name": "go.brand.test", "value": "203.0.113.7"},
        {"type": "AAAA", "name": "go.brand.test", "value": "2001:db8::7"},
    ]
    assert domain["robots"] == "deny" and domain["root_url"] is None


async def test_links_on_a_pending_domain_are_kept_but_answer_only_once_it_is_verified(
    client: httpx.AsyncClient, tenant: Tenant, zone: Zone, app: MaskApp
) -> None:
    domain = await add(client, tenant, "go.brand.test")
    await create_link(client, tenant, slug="launch", url="https://example.com/launch", domain="go.brand.test")

    pending = await client.get("/launch", headers={"Host": "go.brand.test", "Accept": "application/json"})
    assert pending.status_code == 404 and pending.json()["error"]["code"] == "domain_not_verified"
    assert "example.com" not in pending.text

    checked = await verify(client, tenant, domain["id"])
    assert checked["verification"]["status"] == "pending"
    assert checked["verification"]["error"]["code"] == "record_not_found"
    assert checked["verification"]["last_checked_at"] is not None

    publish(zone, domain)
    zone.set("go.brand.test", "CNAME", CNAME_TARGET)
    verified = await verify(client, tenant, domain["id"])
    assert verified["verified"] is True and verified["verification"]["status"] == "verified"
    assert verified["verification"]["error"] is None and verified["routing"]["status"] == "ok"
    assert [e["domain"] for e in await events(app, tenant.workspace_id, "domain.verified")] == ["go.brand.test"]

    answered = await client.get("/launch", headers={"Host": "go.brand.test"})
    assert (answered.status_code, answered.headers["location"]) == (302, "https://example.com/launch")
    assert answered.headers["x-robots-tag"] == "noindex"


async def test_dns_problems_are_reported_as_such_and_never_raise(
    client: httpx.AsyncClient, tenant: Tenant, zone: Zone
) -> None:
    cases = {
        "go.servfail.test": "dns_error",
        "go.silent.test": "dns_timeout",
        "go.mismatch.test": "record_mismatch",
        "go.nxdomain.test": "record_not_found",
        "go.nodata.test": "record_not_found",
    }
    zone.servfail.add("_mask-challenge.go.servfail.test")
    zone.silent.add("_mask-challenge.go.silent.test")
    zone.set("_mask-challenge.go.mismatch.test", "TXT", "mask-verify=someone-elses-token")
    zone.set("_mask-challenge.go.nodata.test", "A", "192.0.2.1")
    for name, code in cases.items():
        domain = await add(client, tenant, name)
        checked = await verify(client, tenant, domain["id"])
        assert checked["verification"]["status"] == "pending", name
        assert checked["verification"]["error"]["code"] == code, name
        assert checked["routing"]["status"] == "missing", name


async def test_internationalised_names_are_looked_up_as_punycode(
    client: httpx.AsyncClient, tenant: Tenant, zone: Zone
) -> None:
    domain = await add(client, tenant, "links.bücher.test")
    assert domain["verification"]["record"]["name"] == "_mask-challenge.links.xn--bcher-kva.test"
    publish(zone, domain)
    zone.set("links.xn--bcher-kva.test", "A", "203.0.113.7")
    checked = await verify(client, tenant, domain["id"])
    assert checked["verified"] is True and checked["routing"]["status"] == "ok"
    assert ("_mask-challenge.links.xn--bcher-kva.test", "TXT") in zone.queries


async def test_routing_is_ok_for_an_address_of_the_cname_target_and_missing_elsewhere(
    client: httpx.AsyncClient, tenant: Tenant, zone: Zone
) -> None:
    zone.set(CNAME_TARGET, "A", "198.51.100.9")
    zone.set("apex.test", "A", "198.51.100.9")  # an apex cannot be a CNAME: the target's address is fine
    zone.set("elsewhere.test", "A", "192.0.2.44")
    for name, status in (("apex.test", "ok"), ("elsewhere.test", "missing")):
        domain = await add(client, tenant, name)
        assert (await verify(client, tenant, domain["id"]))["routing"]["status"] == status


async def test_a_verified_claim_wins_over_a_squatters_unverified_one(
    client: httpx.AsyncClient, make_tenant: TenantFactory, zone: Zone, app: MaskApp
) -> None:
    squatter, owner, third = await make_tenant(), await make_tenant(), await make_tenant()
    squatted = await add(client, squatter, "go.brand.test")
    await create_link(client, squatter, slug="promo", url="https://phish.example/", domain="go.brand.test")
    page = await client.post(
        "/v1/bio-pages", json={"handle": "brand", "domain": "go.brand.test"}, headers=squatter.headers
    )
    assert page.status_code == 201, page.text

    claimed = await add(client, owner, "go.brand.test")  # the squatter's claim does not block the owner
    publish(zone, claimed)
    assert (await verify(client, owner, claimed["id"]))["verified"] is True

    released = (await client.get(f"/v1/domains/{squatted['id']}", headers=squatter.headers)).json()
    assert released["verification"]["status"] == "failed" and released["verified"] is False
    assert released["verification"]["error"]["code"] == "claimed_elsewhere"
    assert "1 link(s) and 1 bio page(s)" in released["verification"]["error"]["message"]
    told = await events(app, squatter.workspace_id, "domain.verification_failed")
    assert [e["verification"]["error"]["code"] for e in told] == ["claimed_elsewhere"]
    assert (await client.get("/v1/links", headers=squatter.headers)).json()["data"] == []

    # The slug the squatter held is the owner's to use; the squatter can put nothing more there.
    await create_link(client, owner, slug="promo", url="https://brand.example/promo", domain="go.brand.test")
    refused = await client.post(
        "/v1/links", json={"url": "https://phish.example/2", "domain": "go.brand.test"}, headers=squatter.headers
    )
    assert refused.status_code == 422 and refused.json()["error"]["errors"][0]["code"] == "unknown_domain"
    answered = await client.get("/promo", headers={"Host": "go.brand.test"})
    assert answered.headers["location"] == "https://brand.example/promo"

    # Nobody else can claim it now, and the squatter's own record cannot make a second verified claim.
    taken = await client.post("/v1/domains", json={"domain": "go.brand.test"}, headers=third.headers)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "domain_taken"
    zone.set(
        "_mask-challenge.go.brand.test",
        "TXT",
        claimed["verification"]["record"]["value"],
        squatted["verification"]["record"]["value"],
    )
    again = await verify(client, squatter, squatted["id"])
    assert again["verified"] is False and again["verification"]["error"]["code"] == "verified_elsewhere"
    owners = (await client.get(f"/v1/domains/{claimed['id']}", headers=owner.headers)).json()
    assert owners["verified"] is True


async def test_pending_domains_are_rechecked_with_backoff_then_fail_after_a_week(
    client: httpx.AsyncClient, tenant: Tenant, zone: Zone, app: MaskApp
) -> None:
    checker = checker_of(app)
    await checker.stop()  # this test moves the clock itself
    domain = await add(client, tenant, "go.slow.test")
    start = utcnow()
    delays = []
    moment = start
    for _ in range(5):
        assert await checker.run_once(moment) == 1
        state = (await client.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)).json()
        assert state["verification"]["status"] == "pending"
        moment_next = datetime.fromisoformat(state["verification"]["next_check_at"].replace("Z", "+00:00"))
        delays.append(round((moment_next - moment).total_seconds()))
        assert await checker.run_once(moment_next - timedelta(seconds=1)) == 0  # not due before its time
        moment = moment_next + timedelta(milliseconds=1)  # the API shows milliseconds
    assert delays == [120, 240, 480, 960, 1920]

    assert await checker.run_once(start + timedelta(days=7, minutes=1)) == 1
    failed = (await client.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)).json()
    assert failed["verification"]["status"] == "failed" and failed["verification"]["next_check_at"] is None
    assert len(await events(app, tenant.workspace_id, "domain.verification_failed")) == 1

    publish(zone, domain)  # "Check now" on a failed domain still verifies it
    assert (await verify(client, tenant, domain["id"]))["verified"] is True


async def test_a_verified_domain_whose_record_vanishes_goes_back_to_pending_after_the_grace_period(
    client: httpx.AsyncClient, tenant: Tenant, zone: Zone, app: MaskApp
) -> None:
    checker = checker_of(app)
    await checker.stop()
    domain = await add(client, tenant, "go.grace.test")
    await create_link(client, tenant, slug="x", url="https://example.com/x", domain="go.grace.test")
    publish(zone, domain)
    await verify(client, tenant, domain["id"])
    now = utcnow()

    assert await checker.run_once(now + timedelta(days=1, minutes=1)) == 1  # the daily check finds it
    daily = (await client.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)).json()
    assert daily["verified"] is True and daily["verification"]["record_missing_since"] is None

    zone.set(domain["verification"]["record"]["name"], "TXT")  # the record is gone
    first_miss = now + timedelta(days=2, minutes=2)
    assert await checker.run_once(first_miss) == 1
    missing = (await client.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)).json()
    assert missing["verified"] is True and missing["verification"]["record_missing_since"] is not None
    assert missing["verification"]["error"]["code"] == "record_not_found"
    assert (await client.get("/x", headers={"Host": "go.grace.test"})).status_code == 302  # still in grace
    assert await events(app, tenant.workspace_id, "domain.verification_failed") == []

    assert await checker.run_once(first_miss + timedelta(hours=72, minutes=1)) == 1
    pending = (await client.get(f"/v1/domains/{domain['id']}", headers=tenant.headers)).json()
    assert pending["verified"] is False and pending["verification"]["status"] == "pending"
    assert len(await events(app, tenant.workspace_id, "domain.verification_failed")) == 1
    gone = await client.get("/x", headers={"Host": "go.grace.test"})
    assert gone.status_code == 404 and "not verified" in gone.text


async def test_the_background_process_verifies_a_new_claim_by_itself(
    client: httpx.AsyncClient, tenant: Tenant, zone: Zone
) -> None:
    domain = await add(client, tenant, "go.auto.test")
    publish(zone, domain)
    checked = await verify(client, tenant, domain["id"])  # noqa: F841 (any result; the job does the rest)
    other = await add(client, tenant, "go.auto2.test")
    publish(zone, other)

    async def verified() -> bool:
        response = await client.get(f"/v1/domains/{other['id']}", headers=tenant.headers)
        return bool(response.json()["verified"])

    await eventually(verified, message="the domain checker did not verify the claim")


async def test_operator_verified_domains_need_no_dns_and_are_never_checked(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    await verify_domain(app, tenant, "go.operator.test")
    listed = (await client.get("/v1/domains", headers=tenant.headers)).json()["data"]
    [domain] = listed
    assert domain["verified"] is True and domain["verification"]["method"] == "operator"
    assert domain["verification"]["record"] is None and domain["verification"]["next_check_at"] is None
    checked = await verify(client, tenant, domain["id"])  # a check reports routing, never unverifies it
    assert checked["verified"] is True


async def test_another_workspace_never_reads_checks_or_changes_a_domain(
    client: httpx.AsyncClient, make_tenant: TenantFactory, zone: Zone, app: MaskApp
) -> None:
    await checker_of(app).stop()  # only the attacker's requests could have checked it
    victim, attacker = await make_tenant(), await make_tenant()
    domain = await add(client, victim, "go.victim.test")
    publish(zone, domain)
    domain_id = domain["id"]
    for method, path, body in (
        ("GET", f"/v1/domains/{domain_id}", None),
        ("PATCH", f"/v1/domains/{domain_id}", {"root_url": "https://attacker.example"}),
        ("POST", f"/v1/domains/{domain_id}/verify", None),
        ("DELETE", f"/v1/domains/{domain_id}", None),
    ):
        response = await client.request(method, path, json=body, headers=attacker.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "domain_not_found"
    after = (await client.get(f"/v1/domains/{domain_id}", headers=victim.headers)).json()
    assert after["root_url"] is None and after["verification"]["last_checked_at"] is None
