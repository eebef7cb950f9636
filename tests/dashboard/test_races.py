"""Races found by the adversarial pass (issue 17): concurrent requests through the whole dashboard, on SQLite and
PostgreSQL, end in exactly the answer one request at a time would give."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from mask.account import service as account_service
from mask.app import MaskApp
from mask.db import session_scope
from mask.models.account import Membership, User
from tests.dashboard.conftest import PASSWORD, csrf_of, make_person, new_client


async def test_parallel_log_in_attempts_never_evaluate_more_passwords_than_the_limit(app: MaskApp) -> None:
    await make_person(app, "ada@example.com")
    attacker = new_client(app, ip="192.0.2.66")
    token = csrf_of((await attacker.get("/app/login")).text)
    passwords = [f"guess {n}" for n in range(60)]
    passwords[39] = PASSWORD  # the right one, late in the burst

    async def attempt(password: str) -> int:
        form = {"email": "ada@example.com", "password": password, "next": "", "csrf_token": token}
        return (await attacker.post("/app/login", data=form)).status_code

    answers = await asyncio.gather(*(attempt(password) for password in passwords))
    evaluated = [status for status in answers if status != 429]
    assert set(answers) <= {401, 303, 429}
    # Each answer other than 429 is a password checked; the throttle's limit bounds them, however they interleave.
    assert len(evaluated) <= account_service.PAIR_FAILURE_LIMIT, answers
    assert answers.count(429) >= len(passwords) - account_service.PAIR_FAILURE_LIMIT


async def test_a_single_use_invitation_admits_exactly_one_of_ten_concurrent_acceptances(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    created = await owner.post(f"{owner.base}/settings/invites", {"role": "member"}, form_page=f"{owner.base}/settings")
    assert created.status_code == 201
    link = created.text.split("/app/invites/", 1)[1].split('"', 1)[0].split("<", 1)[0]
    guests = [await make_person(app, f"guest{n}@example.com", ip=f"198.51.100.{n}") for n in range(10)]
    tokens = [csrf_of((await guest.http.get(f"/app/invites/{link}")).text) for guest in guests]

    answers = await asyncio.gather(
        *(
            guest.http.post(f"/app/invites/{link}", data={"csrf_token": token})
            for guest, token in zip(guests, tokens, strict=True)
        )
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [303] + [404] * 9, statuses
    async with session_scope(app.context.sessionmaker) as db:
        members = await db.scalar(
            select(func.count()).select_from(Membership).where(Membership.workspace_id == await _workspace_id(db))
        )
    assert members == 2  # the owner and one guest


async def _workspace_id(db: Any) -> str:
    from mask.models.workspace import Workspace

    return str(await db.scalar(select(Workspace.id).where(Workspace.slug == "team")))


@pytest.mark.parametrize("settings_overrides", [{"signup_rate_per_hour": 10}])
async def test_parallel_sign_ups_from_one_source_are_throttled(app: MaskApp) -> None:
    http = new_client(app, ip="192.0.2.40")
    token = csrf_of((await http.get("/app/signup")).text)

    async def sign_up(n: int) -> int:
        form = {"email": f"bot{n}@example.com", "password": PASSWORD, "workspace_name": "", "csrf_token": token}
        return (await http.post("/app/signup", data=form)).status_code

    answers = await asyncio.gather(*(sign_up(n) for n in range(40)))
    assert answers.count(429) == 30, answers
    async with session_scope(app.context.sessionmaker) as db:
        assert await db.scalar(select(func.count()).select_from(User)) == 10
    elsewhere = new_client(app, ip="192.0.2.41")  # another source is not affected
    form = {"email": "person@example.com", "password": PASSWORD, "workspace_name": "", "csrf_token": ""}
    form["csrf_token"] = csrf_of((await elsewhere.get("/app/signup")).text)
    assert (await elsewhere.post("/app/signup", data=form)).status_code == 303
