"""`mask import FILE --workspace W`: the operator's import with a progress bar, its counts and refused rows."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx

from mask.app import MaskApp
from tests.cli.test_cli import mask
from tests.conftest import Tenant


async def mask_in_thread(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    # In a thread: the app under test shares this event loop; blocking it while one of its background tasks is
    # mid-transaction would hold SQLite's write lock for the whole command.
    return await asyncio.to_thread(mask, database_url, *args)


async def test_mask_import_imports_a_file_and_prints_what_it_refused(
    database_url: str, app: MaskApp, client: httpx.AsyncClient, tenant: Tenant, tmp_path: Path
) -> None:
    path = tmp_path / "bitly.csv"
    path.write_text(
        "Title,Long URL,Bitly link\nOne,https://example.com/1,bit.ly/one\nBad,javascript:x,bit.ly/bad\n", "utf-8"
    )
    dry = await mask_in_thread(
        database_url, "import", str(path), "--workspace", tenant.slug, "--source", "bitly-csv", "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert "1 created" in dry.stderr and "(dry run)" in dry.stderr
    assert (await client.get("/v1/links", headers=tenant.headers)).json()["data"] == []
    done = await mask_in_thread(database_url, "import", str(path), "--workspace", tenant.slug, "--source", "bitly-csv")
    assert done.returncode == 0, done.stderr
    assert "1 created" in done.stderr and "1 refused" in done.stderr and "row 2: failed" in done.stderr
    links = (await client.get("/v1/links", headers=tenant.headers)).json()["data"]
    assert [(link["slug"], link["title"]) for link in links] == [("one", "One")]
    jobs = (await client.get("/v1/imports", headers=tenant.headers)).json()["data"]
    assert [job["status"] for job in jobs] == ["completed", "completed"]


def test_mask_import_refuses_bad_options_cleanly(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("nothing,here\n1,2\n", "utf-8")
    assert mask(database_url, "workspaces", "create", "acme").returncode == 0
    missing = mask(database_url, "import", str(path), "--workspace", "acme")
    assert missing.returncode == 1 and "header lacks `url`" in missing.stderr and "Traceback" not in missing.stderr
    unknown = mask(database_url, "import", str(path), "--workspace", "nope")
    assert unknown.returncode == 1 and "No workspace" in unknown.stderr
    bad = mask(database_url, "import", str(path), "--workspace", "acme", "--source", "gold")
    assert bad.returncode == 2
