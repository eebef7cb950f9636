"""The README's CLI steps, run as a user runs them: `mask workspaces create`, `mask keys create`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from mask.app import MaskApp

MASK = str(Path(sys.executable).with_name("mask"))


def mask(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"MASK_DATABASE_URL": database_url}
    return subprocess.run([MASK, *args], capture_output=True, text=True, env=env, timeout=60, check=False)


async def test_workspace_and_key_from_the_cli_work_against_the_api(
    database_url: str, app: MaskApp, client: httpx.AsyncClient
) -> None:
    created = mask(database_url, "workspaces", "create", "acme", "--plan", "hobby")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().startswith("ws_")

    key = mask(database_url, "keys", "create", "--workspace", "acme", "--scope", "links:read", "--name", "ci")
    assert key.returncode == 0, key.stderr
    token = key.stdout.strip()
    assert key.stdout == token + "\n", "only the key is printed on stdout"
    assert token.startswith("mk_live_") and len(token) >= len("mk_live_") + 32

    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/v1/links", headers=headers)).status_code == 200
    write = await client.post("/v1/links", json={"url": "https://example.com"}, headers=headers)
    assert write.status_code == 403 and write.json()["error"]["required_scope"] == "links:write"

    listing = mask(database_url, "keys", "list", "--workspace", "acme")
    key_id = listing.stdout.split("\t", 1)[0]
    assert "links:read" in listing.stdout and token not in listing.stdout
    assert mask(database_url, "keys", "revoke", key_id, "--workspace", "acme").returncode == 0
    assert (await client.get("/v1/links", headers=headers)).status_code == 401


def test_cli_errors_are_clean_messages(database_url: str) -> None:
    assert mask(database_url, "workspaces", "create", "dup").returncode == 0
    again = mask(database_url, "workspaces", "create", "dup")
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr
    unknown = mask(database_url, "keys", "create", "--workspace", "nope")
    assert unknown.returncode == 1 and "No workspace" in unknown.stderr
    bad_scope = mask(database_url, "keys", "create", "--workspace", "dup", "--scope", "links:destroy")
    assert bad_scope.returncode == 1 and "Unknown scope" in bad_scope.stderr
    bad_plan = mask(database_url, "workspaces", "create", "x2", "--plan", "gold")
    assert bad_plan.returncode == 2
