"""Two-factor sign-in: enrolment with a QR code and recovery codes, the code step of logging in (codes good once,
recovery codes used up, attempts throttled, a forged or stale challenge worthless), and a workspace owner
requiring it of every member; every change in the audit log."""

from __future__ import annotations

import asyncio
import re
import time

import pyotp
from sqlalchemy import select

from mask.app import MaskApp
from mask.db import session_scope
from mask.models.account import RecoveryCode, User
from mask.models.audit import AuditEntry
from tests.cli.test_cli import mask
from tests.dashboard.conftest import PASSWORD, Person, csrf_of, log_in, mailed_link, make_person, new_client
from tests.dashboard.test_roles import _person_with_role

SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
CODES = re.compile(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>")


async def user_row(app: MaskApp, email: str) -> User:
    async with session_scope(app.context.sessionmaker) as session:
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None
        return user


async def fresh_code(app: MaskApp, email: str) -> str:
    """A code of a time step after the last one accepted and within the accepted drift of now."""
    user = await user_row(app, email)
    assert user.totp_secret is not None
    current = int(time.time() // 30)
    step = max(current - 1, (user.totp_last_step or 0) + 1)
    assert step <= current + 1, "two codes in one minute: the test ran too fast for TOTP"
    return pyotp.TOTP(user.totp_secret).at(step * 30)


async def enrol(person: Person) -> list[str]:
    page = await person.http.get("/app/account/two-factor")
    assert page.status_code == 200, page.text
    assert 'src="data:image/svg+xml;base64,' in page.text
    found = SECRET.search(page.text)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    wrong = await person.http.post(
        "/app/account/two-factor/enable", data={"code": "000000", "csrf_token": csrf_of(page.text)}
    )
    assert wrong.status_code == 422 and "does not match" in wrong.text
    done = await person.http.post(
        "/app/account/two-factor/enable", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(page.text)}
    )
    assert done.status_code == 200, done.text
    codes = CODES.findall(done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return codes


async def log_out(person: Person) -> None:
    assert (await person.post("/app/logout")).status_code == 303


async def second_step(person: Person, code: str) -> int:
    form = await person.http.get("/app/login/two-factor")
    assert form.status_code == 200, form.text
    response = await person.http.post("/app/login/two-factor", data={"code": code, "csrf_token": csrf_of(form.text)})
    return response.status_code


async def test_enrolment_then_sign_in_needs_a_code_good_once_and_recovery_codes_work_once(app: MaskApp) -> None:
    ada = await make_person(app, "ada@example.com")
    codes = await enrol(ada)
    stored = (await user_row(app, ada.email)).totp_secret
    async with session_scope(app.context.sessionmaker) as session:
        hashes = list((await session.scalars(select(RecoveryCode.code_hash))).all())
    assert len(hashes) == 10 and not set(hashes) & {code.replace("-", "") for code in codes}  # hashed only
    status = await ada.http.get("/app/account/two-factor")
    assert "10 unused recovery codes left" in status.text

    await log_out(ada)
    password_only = await log_in(ada.http, ada.email)
    assert password_only.status_code == 303 and password_only.headers["location"] == "/app/login/two-factor"
    assert (await ada.http.get("/app")).headers["location"] == "/app/login"  # no session yet
    assert await second_step(ada, "123456") == 422
    code = await fresh_code(app, ada.email)
    assert await second_step(ada, code) == 303
    assert (await ada.http.get("/app")).headers["location"].endswith("/links")

    await log_out(ada)
    await log_in(ada.http, ada.email)
    assert await second_step(ada, code) == 422  # the same code again: refused
    assert await second_step(ada, codes[3].upper()) == 303  # a recovery code, however it is typed
    await log_out(ada)
    await log_in(ada.http, ada.email)
    assert await second_step(ada, codes[3]) == 422  # used up
    assert await second_step(ada, codes[4]) == 303
    assert "8 unused recovery codes left" in (await ada.http.get("/app/account/two-factor")).text
    assert (await user_row(app, ada.email)).totp_secret == stored

    async with session_scope(app.context.sessionmaker) as session:
        actions = set((await session.scalars(select(AuditEntry.action))).all())
    assert {"user.two_factor_enabled", "user.recovery_code_used"} <= actions


async def test_code_guesses_are_throttled_and_a_forged_or_missing_challenge_leads_back_to_log_in(app: MaskApp) -> None:
    bob = await make_person(app, "bob@example.com")
    await enrol(bob)
    await log_out(bob)
    await log_in(bob.http, bob.email)
    statuses = [await second_step(bob, f"{number:06d}") for number in range(6)]
    assert statuses == [422] * 5 + [429]
    assert await second_step(bob, await fresh_code(app, bob.email)) == 429  # even the right code, for a while

    stranger = new_client(app, "192.0.2.99")
    assert (await stranger.get("/app/login/two-factor")).headers["location"] == "/app/login"
    user = await user_row(app, bob.email)
    stranger.cookies.set("mask_2fa", f"{user.id}.{int(time.time()) + 300}.{'0' * 64}")
    assert (await stranger.get("/app/login/two-factor")).headers["location"] == "/app/login"
    stranger.cookies.set("mask_2fa", f"{user.id}.{int(time.time()) - 1}.{'0' * 64}")
    assert (await stranger.get("/app/login/two-factor")).headers["location"] == "/app/login"


async def test_regenerating_codes_and_turning_it_off_need_proof(app: MaskApp) -> None:
    cy = await make_person(app, "cy@example.com")
    old = await enrol(cy)
    refused = await cy.post("/app/account/two-factor/recovery-codes", {"code": "111111"})
    assert refused.status_code == 422
    fresh = await cy.post("/app/account/two-factor/recovery-codes", {"code": await fresh_code(app, cy.email)})
    new = CODES.findall(fresh.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert (await cy.post("/app/account/two-factor/disable", {"password": "wrong password!"})).status_code == 422
    off = await cy.post("/app/account/two-factor/disable", {"password": PASSWORD})
    assert off.status_code == 303
    assert (await user_row(app, cy.email)).totp_secret is None
    await log_out(cy)
    assert (await log_in(cy.http, cy.email)).headers["location"] == "/app"  # the password alone again


async def test_an_owner_requires_two_factor_sign_in_of_every_member(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    member = await _person_with_role(app, owner, "member")
    admin = await _person_with_role(app, owner, "admin")
    settings = f"{owner.base}/settings"

    first = await owner.post(f"{owner.base}/settings/two-factor", {"require_two_factor": "on"}, form_page=settings)
    assert first.status_code == 422 and "Turn on two-factor sign-in for your own account first" in first.text
    await enrol(owner)
    done = await owner.post(f"{owner.base}/settings/two-factor", {"require_two_factor": "on"}, form_page=settings)
    assert done.status_code == 303
    by_admin = await admin.post(f"{admin.base}/settings/two-factor", {}, form_page="/app/account")
    assert by_admin.status_code == 303  # not enrolled: sent to enrol before anything else (the matrix: test_roles)
    assert by_admin.headers["location"] == f"/app/account/two-factor?required={admin.workspace}"

    sent = await member.http.get(f"{member.base}/links")
    assert (
        sent.status_code == 303 and sent.headers["location"] == f"/app/account/two-factor?required={member.workspace}"
    )
    page = await member.http.get(sent.headers["location"])
    assert "Team requires two-factor sign-in of every member" in page.text
    await enrol(member)
    assert (await member.http.get(f"{member.base}/links")).status_code == 200
    cannot = await member.post("/app/account/two-factor/disable", {"password": PASSWORD})
    assert cannot.status_code == 403 and "require" in cannot.text

    optional = await owner.post(f"{owner.base}/settings/two-factor", {}, form_page=settings)
    assert optional.status_code == 303
    async with session_scope(app.context.sessionmaker) as session:
        actions = list((await session.scalars(select(AuditEntry.action).order_by(AuditEntry.at))).all())
    assert "workspace.two_factor_required" in actions and actions[-1] == "workspace.two_factor_optional"


async def test_the_operator_turns_it_off_for_someone_who_lost_phone_and_codes(app: MaskApp, database_url: str) -> None:
    dee = await make_person(app, "dee@example.com")
    await enrol(dee)
    done = await asyncio.to_thread(mask, database_url, "users", "disable-two-factor", "DEE@example.com")
    assert done.returncode == 0, done.stderr
    assert (await dee.http.get("/app")).headers["location"] == "/app/login"  # sessions ended
    assert (await log_in(dee.http, dee.email)).headers["location"] == "/app"  # the password alone again
    unknown = await asyncio.to_thread(mask, database_url, "users", "disable-two-factor", "nobody@example.com")
    assert unknown.returncode == 1 and "No user" in unknown.stderr


async def test_a_password_reset_by_mail_does_not_get_past_the_code_step(app: MaskApp) -> None:
    eve = await make_person(app, "eve@example.com")
    codes = await enrol(eve)
    mailbox_thief = new_client(app, "198.51.100.9")
    form = await mailbox_thief.get("/app/password-reset")
    sent = await mailbox_thief.post("/app/password-reset", data={"email": eve.email, "csrf_token": csrf_of(form.text)})
    assert sent.status_code == 303
    path = await mailed_link(app, eve.email, "password_reset")
    page = await mailbox_thief.get(path)
    done = await mailbox_thief.post(path, data={"password": "a brand new passphrase", "csrf_token": csrf_of(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/app/login/two-factor?done=password-reset"
    assert (await mailbox_thief.get("/app")).headers["location"] == "/app/login"  # no session without a code
    code_step = await mailbox_thief.get("/app/login/two-factor")
    assert code_step.status_code == 200
    finished = await mailbox_thief.post(
        "/app/login/two-factor", data={"code": codes[0], "csrf_token": csrf_of(code_step.text)}
    )
    assert finished.status_code == 303  # the owner, with a recovery code, is in
