"""Every naughty string as a key's name, the workspace's name and an invitation's e-mail: stored and echoed as
sent (trimmed), or refused with a 422 naming the field; never a 500."""

from __future__ import annotations

import json

import httpx

from tests.conftest import Tenant, corpus_path

NAUGHTY: list[str] = json.loads(corpus_path("blns.json").read_text(encoding="utf-8"))


async def test_naughty_names_and_addresses_round_trip_or_are_refused_cleanly(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    outcomes = {"stored": 0, "refused": 0}
    for index, text in enumerate(NAUGHTY):
        key = await client.post("/v1/keys", json={"name": text, "scopes": ["links:read"]}, headers=tenant.headers)
        assert key.status_code in (201, 422), f"{index}: {text!r} → {key.status_code} {key.text}"
        if key.status_code == 201:
            assert key.json()["name"] == (text.strip()[:100] or "API key"), text
            listed = await client.get(f"/v1/keys/{key.json()['id']}", headers=tenant.headers)
            assert listed.json()["name"] == key.json()["name"]
        else:
            assert key.json()["error"]["param"] == "name", text
        renamed = await client.patch("/v1/workspace", json={"name": text}, headers=tenant.headers)
        assert renamed.status_code in (200, 422), f"{index}: {text!r} → {renamed.status_code} {renamed.text}"
        if renamed.status_code == 200:
            assert renamed.json()["name"] == text.strip(), text
            outcomes["stored"] += 1
        else:
            assert renamed.json()["error"]["param"] == "name", text
            outcomes["refused"] += 1
        invited = await client.post("/v1/invitations", json={"email": text}, headers=tenant.headers)
        assert invited.status_code in (201, 422), f"{index}: {text!r} → {invited.status_code} {invited.text}"
        if invited.status_code == 422:
            assert invited.json()["error"]["param"] == "email", text
    assert outcomes["stored"] > 400 and outcomes["refused"] > 0
