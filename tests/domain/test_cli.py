"""`mask domains add | list | check`, run as an operator runs them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

from mask.app import MaskApp
from tests.conftest import Tenant
from tests.dns_zone import Zone
from tests.domain.conftest import checker_of

MASK = str(Path(sys.executable).with_name("mask"))


async def mask(database_url: str, resolver: str, *args: str) -> subprocess.CompletedProcess[str]:
    # In a thread: the app under test shares this event loop, and a background task of it caught mid-transaction
    # by a blocked loop would hold SQLite's write lock for the whole command ("database is locked").
    env = os.environ | {"MASK_DATABASE_URL": database_url, "MASK_DNS_RESOLVERS": resolver, "MASK_DNS_TIMEOUT": "1"}
    command = [MASK, *args]
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, env=env, timeout=60, check=False
    )


async def test_an_operator_adds_lists_and_checks_domains(
    database_url: str, app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, zone: Zone, dns: tuple[Zone, str]
) -> None:
    resolver = dns[1]
    await checker_of(app).stop()  # only the commands check here
    verified = await mask(
        database_url, resolver, "domains", "add", "go.ops.test", "--workspace", tenant.slug, "--verified"
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip().startswith("dom_")
    pending = await mask(database_url, resolver, "domains", "add", "Go.Later.test", "--workspace", tenant.slug)
    assert pending.returncode == 0, pending.stderr

    listing = (await mask(database_url, resolver, "domains", "list", "--workspace", tenant.slug)).stdout.splitlines()
    assert [line.split("\t")[1:5:2] for line in listing] == [["go.later.test", "pending"], ["go.ops.test", "verified"]]

    missing = await mask(database_url, resolver, "domains", "check", "go.later.test", "--workspace", tenant.slug)
    assert missing.returncode == 0 and "go.later.test: pending (No TXT record" in missing.stdout
    domain = next(
        d
        for d in (await client.get("/v1/domains", headers=tenant.headers)).json()["data"]
        if d["domain"] == "go.later.test"
    )
    zone.set(domain["verification"]["record"]["name"], "TXT", domain["verification"]["record"]["value"])
    found = await mask(database_url, resolver, "domains", "check", "go.later.test", "--workspace", tenant.slug)
    assert found.stdout.strip() == "go.later.test: verified", found.stderr

    refused = await mask(database_url, resolver, "domains", "add", "co.uk", "--workspace", tenant.slug)
    assert refused.returncode == 1 and "public suffix" in refused.stderr and "Traceback" not in refused.stderr
    unknown = await mask(database_url, resolver, "domains", "check", "go.nowhere.test", "--workspace", tenant.slug)
    assert unknown.returncode == 1 and "no domain" in unknown.stderr
