"""Starting an import through the API and waiting for it to end."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx

from tests.conftest import Tenant
from tests.waiting import eventually


async def start(
    client: httpx.AsyncClient, tenant: Tenant, content: bytes, *, filename: str = "links.csv", **options: Any
) -> httpx.Response:
    return await client.post(
        "/v1/imports",
        files={"file": (filename, content, "text/csv")},
        data={"options": json.dumps(options)},
        headers=tenant.headers,
    )


async def finished(client: httpx.AsyncClient, tenant: Tenant, import_id: str) -> dict[str, Any]:
    job: dict[str, Any] = {}

    async def done() -> bool:
        nonlocal job
        job = (await client.get(f"/v1/imports/{import_id}", headers=tenant.headers)).json()
        return job["status"] in ("completed", "failed")

    await eventually(done, message=f"import {import_id} ending")
    return job


async def run(client: httpx.AsyncClient, tenant: Tenant, content: bytes, **options: Any) -> dict[str, Any]:
    response = await start(client, tenant, content, **options)
    assert response.status_code == 202, response.text
    return await finished(client, tenant, response.json()["id"])


async def report(client: httpx.AsyncClient, tenant: Tenant, import_id: str) -> list[dict[str, str]]:
    response = await client.get(f"/v1/imports/{import_id}/report", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


async def all_links(client: httpx.AsyncClient, tenant: Tenant) -> list[dict[str, Any]]:
    response = await client.get("/v1/links/export?format=ndjson&archived=all", headers=tenant.headers)
    return [json.loads(line) for line in response.text.split("\n") if line]
