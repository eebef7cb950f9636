"""`mask clicks rebuild-rollups`: the rollups recomputed from the raw clicks equal the ones click storing kept,
for all time or the UTC days asked, of one workspace or all, and nothing else is touched."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import delete, update

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.analytics import DimensionRollup, Grain, TargetDimensionRollup, TargetRollup
from tests.analytics.helpers import at, create_link, record
from tests.analytics.test_rollups import _random_clicks, _rollup_rows
from tests.conftest import TenantFactory

MASK = str(Path(sys.executable).with_name("mask"))


async def mask(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    # In a thread: the app under test shares this event loop (see tests/domain/test_cli.py).
    env = os.environ | {"MASK_DATABASE_URL": database_url}
    return await asyncio.to_thread(
        subprocess.run, [MASK, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


async def _damage(app: MaskApp, workspace_id: str) -> None:
    """Lose the rollups of 2026-03-08 and double every month row: what a repair has to undo."""
    day, next_day = at("2026-03-08T00:00"), at("2026-03-09T00:00")
    async with session_scope(app.context.sessionmaker) as session:
        for model in (TargetRollup, DimensionRollup):
            await session.execute(
                delete(model).where(model.workspace_id == workspace_id, model.bucket >= day, model.bucket < next_day)
            )
            await session.execute(
                update(model)
                .where(model.workspace_id == workspace_id, model.grain == Grain.month.value)
                .values(clicks=model.clicks * 2)
            )
        await session.execute(
            delete(TargetDimensionRollup).where(
                TargetDimensionRollup.workspace_id == workspace_id, TargetDimensionRollup.day == day
            )
        )


async def test_rebuilding_a_workspaces_days_repairs_them_and_leaves_other_workspaces_alone(
    database_url: str, app: MaskApp, client: httpx.AsyncClient, make_tenant: TenantFactory
) -> None:
    ours, theirs = await make_tenant(slug="ours"), await make_tenant(slug="theirs")
    for tenant, seed in ((ours, 1), (theirs, 2)):
        links = [await create_link(client, tenant, f"{tenant.slug}{i}") for i in range(3)]
        clicks = _random_clicks(tenant, links, random.Random(seed), 200)
        for start in range(0, len(clicks), 100):
            await record(app, clicks[start : start + 100])
    kept = await _rollup_rows(app)
    await _damage(app, ours.workspace_id)
    await _damage(app, theirs.workspace_id)
    damaged = await _rollup_rows(app)
    assert damaged != kept

    done = await mask(
        database_url,
        "clicks",
        "rebuild-rollups",
        "--workspace",
        "ours",
        "--since",
        "2026-03-08",
        "--until",
        "2026-03-08",
    )
    assert done.returncode == 0, done.stderr
    assert "rebuilt 1 workspace-day(s)" in done.stderr
    repaired = await _rollup_rows(app)
    for table, rows in repaired.items():
        ours_rows = {key: value for key, value in rows.items() if key[0] == ours.workspace_id}
        assert ours_rows == {key: value for key, value in kept[table].items() if key[0] == ours.workspace_id}
        theirs_rows = {key: value for key, value in rows.items() if key[0] == theirs.workspace_id}
        assert theirs_rows == {key: value for key, value in damaged[table].items() if key[0] == theirs.workspace_id}

    everything = await mask(database_url, "clicks", "rebuild-rollups")
    assert everything.returncode == 0, everything.stderr
    assert "rebuilt 10 workspace-day(s)" in everything.stderr  # 5 days of clicks in each of 2 workspaces
    assert await _rollup_rows(app) == kept


async def test_an_unknown_workspace_is_an_error_without_a_traceback(database_url: str, app: MaskApp) -> None:
    result = await mask(database_url, "clicks", "rebuild-rollups", "--workspace", "nobody")
    assert result.returncode == 1 and "Traceback" not in result.stderr
