"""Targeting rules and A/B tests (mask.redirect.rules, mask.link.rules): real user agents and Accept-Language
headers through the whole app, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mask.app import MaskApp
from mask.link import rules as link_rules
from mask.redirect import decision
from mask.redirect import rules as redirect_rules
from tests.conftest import Tenant, TenantFactory
from tests.redirect.helpers import create_link

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Mobile Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0 "
    "Mobile/15E148 Safari/604.1"
)
WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36 Edg/124.0.0.0"
)
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def rule(url: str, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {"url": url, "conditions": list(conditions)}


async def location(client: httpx.AsyncClient, slug: str, **headers: str) -> str:
    response = await client.get(f"/{slug}", headers={key.replace("_", "-"): value for key, value in headers.items()})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def test_the_api_and_the_redirect_path_know_the_same_condition_values() -> None:
    assert set(redirect_rules.OSES) == set(link_rules.OSES)
    assert set(redirect_rules.BROWSERS) == set(link_rules.BROWSERS)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-AR,es;q=0.9,en;q=0.8", ("es-ar", "es", "en")),
        ("en;q=0.5, fr", ("fr", "en")),
        ("*, de;q=0", ()),
        ("", ()),
    ],
)
def test_accept_language_is_read_with_its_q_values(header: str, expected: tuple[str, ...]) -> None:
    assert redirect_rules.accepted_languages(header) == expected


async def test_device_os_and_browser_rules_pick_by_real_user_agents(client: httpx.AsyncClient, tenant: Tenant) -> None:
    link = await create_link(
        client,
        tenant,
        slug="get-app",
        url="https://example.com/web",
        rules=[
            rule("https://example.com/tablet", {"type": "device", "value": "tablet"}),
            rule("https://apps.apple.com/app", {"type": "os", "value": "ios"}),
            rule("https://play.google.com/app", {"type": "os", "value": "android"}),
            rule("https://example.com/edge", {"type": "browser", "value": "edge"}),
        ],
    )
    assert [item["url"] for item in link["rules"]][1] == "https://apps.apple.com/app"

    assert await location(client, "get-app", user_agent=IPHONE) == "https://apps.apple.com/app"
    assert await location(client, "get-app", user_agent=PIXEL) == "https://play.google.com/app"
    assert await location(client, "get-app", user_agent=IPAD) == "https://example.com/tablet"  # first match wins
    assert await location(client, "get-app", user_agent=WINDOWS_EDGE) == "https://example.com/edge"
    assert await location(client, "get-app", user_agent=LINUX_FIREFOX) == "https://example.com/web"


async def test_language_rules_match_subtags_and_respect_q_values(client: httpx.AsyncClient, tenant: Tenant) -> None:
    await create_link(
        client,
        tenant,
        slug="hola",
        url="https://example.com/en",
        rules=[
            rule("https://example.com/pt-br", {"type": "language", "value": "pt-BR"}),
            rule("https://example.com/es", {"type": "language", "value": "es"}),
        ],
    )
    assert await location(client, "hola", accept_language="es-AR,es;q=0.9") == "https://example.com/es"
    assert await location(client, "hola", accept_language="pt-BR") == "https://example.com/pt-br"
    assert await location(client, "hola", accept_language="pt-PT,pt;q=0.9") == "https://example.com/en"
    assert await location(client, "hola", accept_language="en, es;q=0") == "https://example.com/en"
    assert await location(client, "hola", accept_language="*") == "https://example.com/en"


async def test_remembered_rule_answers_stay_right_when_the_shared_route_keys_are_cleared(
    client: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Links remember rule answers under route keys shared by every link (mask.redirect.decision); once that
    table is full it starts afresh, and a link still holding a key from before must find it by equality."""
    monkeypatch.setattr(decision, "MAX_ROUTE_KEYS", 1)  # every new key clears the table
    for slug in ("uno", "dos"):
        await create_link(
            client,
            tenant,
            slug=slug,
            url=f"https://example.com/{slug}/en",
            rules=[
                rule(f"https://example.com/{slug}/es", {"type": "language", "value": "es"}),
                rule(f"https://example.com/{slug}/ios", {"type": "os", "value": "ios"}),
            ],
        )
    visitors = [("es-AR", LINUX_FIREFOX, "es"), ("en-US", IPHONE, "ios"), ("en-US", LINUX_FIREFOX, "en")]
    for _ in range(3):
        for slug in ("uno", "dos"):
            for language, agent, answer in visitors:
                found = await location(client, slug, accept_language=language, user_agent=agent)
                assert found == f"https://example.com/{slug}/{answer}", (slug, language, agent)


async def test_query_param_ip_and_time_rules_and_conditions_are_and_ed(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await create_link(
        client,
        tenant,
        slug="mix",
        url="https://example.com/default",
        utm_source="mask",
        rules=[
            rule(
                "https://example.com/vip",
                {"type": "query_param", "name": "ref", "value": "vip"},
                {"type": "os", "value": "ios"},
            ),
            rule("https://example.com/office", {"type": "ip", "value": "198.51.100.0/24"}),
            rule("https://example.com/v6", {"type": "ip", "value": "2001:db8::/32"}),
            rule("https://example.com/later", {"type": "after", "value": future}),
            rule("https://example.com/sale", {"type": "after", "value": past}, {"type": "before", "value": future}),
        ],
    )
    vip = await client.get("/mix?ref=vip", headers={"User-Agent": IPHONE})
    assert vip.headers["location"] == "https://example.com/vip?utm_source=mask&ref=vip"  # UTM and query apply
    assert await location(client, "mix", user_agent=PIXEL) == "https://example.com/sale?utm_source=mask"

    for peer, expected in (("198.51.100.23", "office"), ("2001:db8::5", "v6")):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as other:
            assert await location(other, "mix") == f"https://example.com/{expected}?utm_source=mask"


async def test_country_rules_and_the_geo_shortcut_use_the_visitors_country(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    link = await create_link(
        client,
        tenant,
        slug="geo",
        url="https://example.com/world",
        ios_url="https://apps.apple.com/x",
        geo={"US": "https://example.com/us", "gb": "https://example.com/uk"},
    )
    assert [condition["type"] for item in link["rules"] for condition in item["conditions"]] == [
        "os",
        "country",
        "country",
    ]
    for peer, expected in (
        ("8.8.8.8", "https://example.com/us"),
        ("2001:4860:4860::8888", "https://example.com/us"),
        ("81.2.69.142", "https://example.com/uk"),
        ("200.45.191.1", "https://example.com/world"),
    ):
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as visitor:
            assert await location(visitor, "geo") == expected, peer

    # A shortcut sent again replaces its rule; null removes it.
    changed = await client.patch(
        f"/v1/links/{link['id']}",
        json={"geo": {"US": "https://example.com/us2"}, "ios_url": None},
        headers=tenant.headers,
    )
    assert [item["url"] for item in changed.json()["rules"]] == ["https://example.com/uk", "https://example.com/us2"]


async def test_variants_split_by_weight_stick_per_visitor_and_bots_get_the_first(
    client: httpx.AsyncClient, tenant: Tenant, app: MaskApp
) -> None:
    variants = [
        {"url": "https://example.com/a", "weight": 50},
        {"url": "https://example.com/b", "weight": 30},
        {"url": "https://example.com/c", "weight": 20},
    ]
    await create_link(client, tenant, slug="ab", url="https://example.com/control", variants=variants)

    seen: Counter[str] = Counter()
    for number in range(300):
        agent = f"{LINUX_FIREFOX} visitor/{number}"
        first = await location(client, "ab", user_agent=agent)
        assert await location(client, "ab", user_agent=agent) == first  # sticky without a cookie
        seen[first] += 1
    assert set(seen) == {"https://example.com/a", "https://example.com/b", "https://example.com/c"}
    assert seen["https://example.com/a"] > seen["https://example.com/b"] > seen["https://example.com/c"]
    assert {await location(client, "ab", user_agent=GOOGLEBOT) for _ in range(3)} == {"https://example.com/a"}


async def test_rules_come_before_variants_and_an_ended_test_goes_back_to_the_url(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    variants = [{"url": "https://example.com/a", "weight": 50}, {"url": "https://example.com/b", "weight": 50}]
    link = await create_link(
        client,
        tenant,
        slug="both",
        url="https://example.com/control",
        variants=variants,
        ios_url="https://apps.apple.com/x",
        test_ends_at=(datetime.now(UTC) + timedelta(days=1)).isoformat(),
    )
    assert await location(client, "both", user_agent=IPHONE) == "https://apps.apple.com/x"
    assert await location(client, "both", user_agent=LINUX_FIREFOX) in {
        "https://example.com/a",
        "https://example.com/b",
    }

    promoted = await client.post(f"/v1/links/{link['id']}/variants/1/promote", headers=tenant.headers)
    assert promoted.status_code == 200, promoted.text
    body = promoted.json()
    assert (body["url"], body["variants"], body["test_ends_at"]) == ("https://example.com/b", [], None)
    assert await location(client, "both", user_agent=LINUX_FIREFOX) == "https://example.com/b"
    missing = await client.post(f"/v1/links/{link['id']}/variants/0/promote", headers=tenant.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "variant_not_found"


def errors_of(response: httpx.Response) -> dict[str, str]:
    return {error["param"]: error["code"] for error in response.json()["error"]["errors"]}


async def test_bad_rules_and_variants_are_422_naming_each_field(client: httpx.AsyncClient, tenant: Tenant) -> None:
    body = {
        "url": "https://example.com/",
        "rules": [
            rule("https://example.com/x", {"type": "planet", "value": "mars"}),
            rule("https://example.com/y", {"type": "ip", "value": "10.0.0.0/33"}, {"type": "device", "value": "tv"}),
            rule("https://example.com/z", {"type": "city", "value": "Oslo"}),
            rule("https://example.com/w"),
            rule("http://localhost:8000/loop", {"type": "language", "value": "es"}),
        ],
        "variants": [{"url": "https://example.com/a", "weight": 50}, {"url": "https://example.com/b", "weight": 40}],
        "geo": {"USA": "https://example.com/us"},
    }
    response = await client.post("/v1/links", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert errors_of(response) == {
        "rules[0].conditions[0].type": "unknown_condition",
        "rules[1].conditions[0].value": "invalid_cidr",
        "rules[1].conditions[1].value": "invalid_value",
        "rules[2].conditions[0].type": "city_unavailable",
        "rules[3].conditions": "required",
        "rules[4].url": "redirect_loop",
        "variants": "weights_not_100",
        "geo.USA": "invalid_country",
    }
    one = await client.post(
        "/v1/links",
        json={"url": "https://example.com/", "variants": [{"url": "https://example.com/a", "weight": 100}]},
        headers=tenant.headers,
    )
    assert errors_of(one) == {"variants": "variant_count"}


async def test_another_workspace_cannot_promote_a_variant(
    client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    owner, other = await make_tenant(), await make_tenant()
    variants = [{"url": "https://example.com/a", "weight": 50}, {"url": "https://example.com/b", "weight": 50}]
    link = await create_link(client, owner, variants=variants)
    response = await client.post(f"/v1/links/{link['id']}/variants/0/promote", headers=other.headers)
    assert response.status_code == 404
    assert len((await client.get(f"/v1/links/{link['id']}", headers=owner.headers)).json()["variants"]) == 2


def test_the_redirects_variant_pick_from_header_bytes_is_the_documented_hash() -> None:
    """`pick_for` (the hot path: the link's part of the CRC computed once, the user agent's once per user agent,
    joined by CRC linearity) gives every visitor the variant `pick` gives: a visitor keeps their variant across
    versions."""
    raw = [{"url": f"https://example.com/{n}", "weight": weight} for n, weight in enumerate((50, 30, 15, 5))]
    variants = redirect_rules.compile_variants(raw, None, {}, link_id="lnk_3xample")
    assert variants is not None
    agents = [IPHONE, PIXEL, IPAD, WINDOWS_EDGE, LINUX_FIREFOX, GOOGLEBOT, "", "Mozilla/5.0 (Zoë's tablet; Größe)"]
    picked: Counter[int] = Counter()
    for agent in agents:
        for ip in [None, "203.0.113.7", "2001:db8::1", *(f"198.51.100.{n}" for n in range(60))]:
            expected = variants.pick("lnk_3xample", ip, agent)
            assert variants.pick_for(ip, redirect_rules.agent_crc(agent.encode("latin-1"))) == expected, (ip, agent)
            picked[expected] += 1
    assert set(picked) == {0, 1, 2, 3}  # every bucket range is reachable
    assert picked[0] > picked[1] > picked[2] > picked[3]
    other = redirect_rules.compile_variants(raw, None, {}, link_id="lnk_0ther")
    assert other is not None and other.table is variants.table  # one bucket table per set of weights
