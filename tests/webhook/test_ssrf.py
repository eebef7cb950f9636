"""The SSRF guard: refused at creation in every spelling, and checked again on the resolved address at delivery."""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mask.app import MaskApp
from mask.config import Settings
from mask.db import session_scope
from mask.kit.url import UrlProblem
from mask.models.webhook import WebhookAttempt
from mask.webhook import service as webhook_service
from mask.webhook import ssrf
from mask.webhook.dispatcher import create_client
from mask.webhook.policy import DeliveryPolicy
from mask.webhook.schemas import WebhookCreate
from tests.conftest import Tenant, corpus_path
from tests.waiting import eventually
from tests.webhook.conftest import FAST, create_link, dispatcher_of
from tests.webhook.receiver import Receiver

BLOCKED_SPELLINGS = [
    "http://127.0.0.1/hook",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://017700000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[2002:7f00:1::]/",
    "http://[64:ff9b::7f00:1]/",
    "http://localhost:8080/",
    "http://LOCALHOST./",
    "http://app.localhost/",
    "http://0.0.0.0/",
    "http://0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://192.0x00A80001/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://168.63.129.16/",
    "http://100.100.100.200/",
    "http://printer.local/",
    "http://１２７.０.０.１/",
    "http://%31%32%37.0.0.1/",
]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}  # the guard on, as in production


async def test_non_public_destinations_are_refused_at_creation_in_every_spelling(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    accepted = {}
    for url in BLOCKED_SPELLINGS:
        response = await client.post(
            "/v1/webhooks", headers=tenant.headers, json={"url": url, "events": ["link.created"]}
        )
        error = response.json().get("error", {})
        if response.status_code != 422 or error["errors"][0] != {
            "param": "url",
            "code": "blocked_destination",
            "message": error["errors"][0]["message"],
        }:
            accepted[url] = response.text
    assert accepted == {}
    assert (await client.get("/v1/webhooks", headers=tenant.headers)).json()["data"] == []


async def test_patching_to_a_private_address_is_refused_too(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await client.post(
        "/v1/webhooks", headers=tenant.headers, json={"url": "https://93.184.215.14/hook", "events": ["link.created"]}
    )
    assert created.status_code == 201, created.text
    response = await client.patch(
        f"/v1/webhooks/{created.json()['id']}", headers=tenant.headers, json={"url": "http://[::ffff:a00:1]/"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["errors"][0]["code"] == "blocked_destination"


async def test_a_host_name_resolving_to_a_private_address_is_refused_at_creation(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    hostname = socket.gethostname()  # resolves through /etc/hosts on Linux: loopback or the machine's own address
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(hostname, 80, type=socket.SOCK_STREAM)}
    except OSError:
        pytest.skip(f"this machine's host name {hostname!r} does not resolve")
    if all(ssrf.address_problem(ipaddress.ip_address(str(a).split("%")[0])) is None for a in resolved):
        pytest.skip(f"{hostname} resolves to public addresses {resolved}")
    response = await client.post(
        "/v1/webhooks", headers=tenant.headers, json={"url": f"http://{hostname}:9/hook", "events": ["link.created"]}
    )
    assert response.status_code == 422, response.text
    assert "resolves to" in response.json()["error"]["message"]


def _corpus_ip_urls() -> list[dict[str, Any]]:
    cases = json.loads(corpus_path("urltestdata.json").read_text(encoding="utf-8"))
    found = []
    for case in cases:
        if not isinstance(case, dict) or case.get("failure") or case.get("protocol") not in ("http:", "https:"):
            continue
        try:
            ipaddress.ip_address(case["hostname"].strip("[]"))
        except ValueError:
            continue
        found.append(case)
    return found


def test_every_ip_spelling_in_the_whatwg_corpus_is_judged_by_the_address_it_parses_to() -> None:
    cases = _corpus_ip_urls()
    assert len(cases) >= 15
    for case in cases:
        address = ipaddress.ip_address(case["hostname"].strip("[]"))
        if ssrf.address_problem(address) is None:
            assert ssrf.check_url(case["input"], allow_private=False, require_https=False) == case["href"]
        else:
            with pytest.raises(UrlProblem) as refused:
                ssrf.check_url(case["input"], allow_private=False, require_https=False)
            assert refused.value.code == "blocked_destination", case["input"]


def test_naughty_strings_are_refused_cleanly_or_accepted_never_crash() -> None:
    strings = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))
    for text in strings:
        for candidate in (text, f"https://{text}/", f"https://example.com/{text}"):
            try:
                ssrf.check_url(candidate, allow_private=False, require_https=True)
            except UrlProblem:
                pass


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_the_delivery_client_refuses_to_connect_to_a_non_public_address(receiver: Receiver, host: str) -> None:
    async with create_client(allow_private=False, policy=DeliveryPolicy()) as http:
        with pytest.raises(ssrf.BlockedDestination, match="loopback"):
            await http.post(f"http://{host}:{receiver.port}/hook", content=b"{}")
    assert receiver.received == []
    async with create_client(allow_private=True, policy=DeliveryPolicy()) as http:  # the setting lifts it
        assert (await http.post(f"http://{host}:{receiver.port}/hook", content=b"{}")).status_code == 200


async def test_a_url_accepted_earlier_is_checked_again_at_delivery(
    app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, settings: Settings
) -> None:
    """DNS rebinding, in effect: `localhost` was accepted while private addresses were allowed; at delivery
    the guard is on, the name resolves to 127.0.0.1, and the attempt is refused before any connection."""
    lenient = settings.model_copy(update={"webhooks_allow_private": True})
    async with session_scope(app.context.sessionmaker) as session:
        await webhook_service.create(
            session,
            settings=lenient,
            workspace_id=tenant.workspace_id,
            data=WebhookCreate(url=f"http://localhost:{receiver.port}/hook", events=["link.created"]),
        )
    dispatcher_of(app).policy = FAST
    await create_link(client, tenant, "rebound")

    async def errors() -> list[str | None]:
        async with session_scope(app.context.sessionmaker) as session:
            return list((await session.execute(select(WebhookAttempt.error))).scalars())

    async def attempted() -> bool:
        return bool(await errors())

    await eventually(attempted, message="a refused attempt")
    error = (await errors())[0]
    assert error is not None and error.startswith("refused: localhost resolves to 127.0.0.1"), error
    assert receiver.received == []
