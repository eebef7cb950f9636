"""`mask blocklist update --from FILE|URL` and `mask abuse list|suspend|restore`, run as an operator runs them."""

from __future__ import annotations

import asyncio
import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mask.app import MaskApp
from tests.abuse.test_report import send_report
from tests.cli.test_cli import mask as mask_blocking
from tests.conftest import TenantFactory
from tests.redirect.helpers import create_link


async def mask(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`mask …` in a thread: the app sharing this loop keeps running (never frozen holding SQLite's write lock)."""
    return await asyncio.to_thread(mask_blocking, database_url, *args)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"redirect_cache_ttl": 0.001}  # what the CLI changes reaches this app's redirects at once


@pytest.fixture
def list_server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback serving tmp_path (a blocklist's download URL)."""
    (tmp_path / "urlhaus.csv").write_text(
        '# URLhaus\n"1","2026-12-01","http://drop.example/x.exe","online","","malware_download","","",""\n"2"\n'
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_operator_refreshes_lists_from_a_file_and_a_url_and_suspends_and_restores(
    database_url: str,
    app: MaskApp,
    client: httpx.AsyncClient,
    make_tenant: TenantFactory,
    tmp_path: Path,
    list_server: str,
) -> None:
    tenant = await make_tenant(slug="acme")
    link = await create_link(client, tenant, slug="promo", url="https://cdn.phish.example/login")
    other = await create_link(client, tenant, slug="dl", url="http://drop.example/x.exe")

    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n0.0.0.0 phish.example\n0.0.0.0 bad..name\n")
    updated = await mask(database_url, "blocklist", "update", "--from", str(hosts), "--source", "hosts")
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.split() == [link["id"]]
    assert "skipped line 3" in updated.stderr and "1 entries (+1, -0)" in updated.stderr

    downloaded = await mask(
        database_url, "blocklist", "update", "--from", f"{list_server}/urlhaus.csv", "--source", "urlhaus"
    )
    assert downloaded.returncode == 0, downloaded.stderr
    assert downloaded.stdout.split() == [other["id"]]
    status = await mask(database_url, "blocklist", "status")
    assert status.stdout.splitlines() == ["hosts\t1", "urlhaus\t1"]
    missing = await mask(database_url, "blocklist", "update", "--from", f"{list_server}/nope.txt")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr and "Traceback" not in missing.stderr

    assert (await client.get("/promo")).status_code == 451
    assert (await mask(database_url, "abuse", "restore", "localhost:8000/promo")).returncode == 0
    assert (await client.get("/promo")).status_code == 302

    report = await send_report(client, short_url="http://localhost:8000/promo", details="asks for my bank login")
    assert report.status_code == 200, report.text
    listed = await mask(database_url, "abuse", "list")
    assert listed.returncode == 0 and f"\tphishing\thttp://localhost:8000/promo\t{link['id']}\t" in listed.stdout

    suspended = await mask(database_url, "abuse", "suspend", "acme", "--reason", "phishing kit")
    assert suspended.returncode == 0 and f"suspended workspace {tenant.workspace_id}" in suspended.stderr
    assert (await client.get("/promo")).status_code == 451
    assert (await mask(database_url, "abuse", "list")).stdout == ""  # the workspace's reports are resolved
    unknown = await mask(database_url, "abuse", "suspend", "lnk_nope")
    assert unknown.returncode == 1 and "No link lnk_nope" in unknown.stderr
