from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from mask.account import service as account_service
from mask.app import MaskApp
from mask.config import Settings
from mask.db import session_scope
from mask.kit.errors import ValidationFailed
from mask.mail.repository import MailRepository
from mask.models.account import Role, User
from mask.workspace import members as workspace_members

PASSWORD = "correct horse battery staple"


SETTINGS = Settings(env="test", signup_rate_per_hour=1000)


async def sign_up(session: AsyncSession, **fields: Any) -> User:
    fields.setdefault("ip", "198.51.100.200")
    user = await account_service.sign_up(session, settings=SETTINGS, checkpoint=session.commit, **fields)
    assert user is not None
    return user


async def log_in(session: AsyncSession, *, email: str, password: str, ip: str | None) -> User:
    return await account_service.log_in(session, email=email, password=password, ip=ip, checkpoint=session.commit)


@pytest.fixture
async def session(app: MaskApp) -> AsyncIterator[AsyncSession]:
    async with session_scope(app.context.sessionmaker) as session:
        yield session


async def test_sign_up_creates_a_hobby_workspace_owned_by_the_user(session: AsyncSession) -> None:
    user = await sign_up(session, email="  Ada@Example.COM ", password=PASSWORD, name="Ada")
    assert user.email == "ada@example.com"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    [access] = await workspace_members.workspaces_of(session, user=user)
    assert access.workspace.plan == "hobby" and access.membership.role == Role.owner
    assert access.workspace.name == "Ada"


async def test_sign_up_with_a_taken_email_creates_nothing_and_mails_the_owner(session: AsyncSession) -> None:
    first = await sign_up(session, email="ada@example.com", password=PASSWORD)
    again = await account_service.sign_up(
        session, settings=SETTINGS, email="ADA@example.com", password="another one", ip=None, checkpoint=session.commit
    )
    assert again is None
    await session.flush()
    mails = await MailRepository(session).recent_to("ada@example.com", since=first.created_at)
    assert [mail.kind for mail in mails] == ["verify_email", "signup_existing"]


async def test_two_sign_ups_with_the_same_name_get_distinct_workspace_handles(session: AsyncSession) -> None:
    first = await sign_up(session, email="a@example.com", password=PASSWORD, name="Acme")
    second = await sign_up(session, email="b@example.com", password=PASSWORD, name="Acme")
    [one] = await workspace_members.workspaces_of(session, user=first)
    [two] = await workspace_members.workspaces_of(session, user=second)
    assert one.workspace.slug == "acme" and two.workspace.slug.startswith("acme-")


async def test_every_invalid_field_is_reported_with_its_param(session: AsyncSession) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await sign_up(session, email="not-an-email", password="short")
    assert {(e.param, e.code) for e in caught.value.errors} == {
        ("email", "invalid_email"),
        ("password", "password_too_short"),
    }


async def test_long_passwords_are_refused_not_truncated(session: AsyncSession) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await sign_up(session, email="a@example.com", password="x" * 1025)
    assert caught.value.errors[0].code == "password_too_long"
    long_password = "p" * 1000
    await sign_up(session, email="a@example.com", password=long_password)
    # A password that differs only after the 72nd byte (bcrypt's silent cut) must not log in.
    with pytest.raises(account_service.LoginFailed):
        await log_in(session, email="a@example.com", password="p" * 999 + "q", ip="198.51.100.1")
    assert await log_in(session, email="a@example.com", password=long_password, ip="198.51.100.1")


async def test_unknown_email_and_wrong_password_fail_alike(session: AsyncSession) -> None:
    await sign_up(session, email="ada@example.com", password=PASSWORD)
    errors = []
    for email in ("ada@example.com", "nobody@example.com"):
        with pytest.raises(account_service.LoginFailed) as caught:
            await log_in(session, email=email, password="wrong password", ip="198.51.100.1")
        errors.append((caught.value.status_code, caught.value.code, caught.value.message, caught.value.param))
    assert errors[0] == errors[1]


async def test_a_strangers_failures_throttle_the_account_from_their_source_only(session: AsyncSession) -> None:
    await sign_up(session, email="ada@example.com", password=PASSWORD)
    for _ in range(account_service.PAIR_FAILURE_LIMIT):
        with pytest.raises(account_service.LoginFailed):
            await log_in(session, email="ada@example.com", password="nope", ip="198.51.100.1")
    with pytest.raises(account_service.LoginThrottled) as caught:  # even with the right password
        await log_in(session, email="ada@example.com", password=PASSWORD, ip="198.51.100.1")
    assert 0 < int(caught.value.headers["Retry-After"]) <= 15 * 60
    # The owner, elsewhere, is not locked out by the stranger.
    assert await log_in(session, email="ada@example.com", password=PASSWORD, ip="203.0.113.99")
    # An unknown account is throttled the same way, so the throttle reveals nothing either.
    for _ in range(account_service.PAIR_FAILURE_LIMIT):
        with pytest.raises(account_service.LoginFailed):
            await log_in(session, email="ghost@example.com", password="nope", ip="192.0.2.1")
    with pytest.raises(account_service.LoginThrottled):
        await log_in(session, email="ghost@example.com", password="nope", ip="192.0.2.1")


async def test_failures_from_many_sources_throttle_the_account_except_where_its_owner_signs_in(
    session: AsyncSession,
) -> None:
    user = await sign_up(session, email="ada@example.com", password=PASSWORD)
    await account_service.start_session(session, user=user, ip="203.0.113.7", user_agent=None)  # a known place
    for attempt in range(account_service.ACCOUNT_FAILURE_LIMIT):
        with pytest.raises(account_service.LoginFailed):
            await log_in(session, email="ada@example.com", password="nope", ip=f"10.{attempt}.0.1")
    with pytest.raises(account_service.LoginThrottled):  # a new place, over the account's limit
        await log_in(session, email="ada@example.com", password=PASSWORD, ip="192.0.2.200")
    assert await log_in(session, email="ada@example.com", password=PASSWORD, ip="203.0.113.50")  # same /24


async def test_failed_logins_from_one_ip_throttle_that_ip_only(session: AsyncSession) -> None:
    await sign_up(session, email="ada@example.com", password=PASSWORD)
    for attempt in range(account_service.SOURCE_FAILURE_LIMIT):
        with pytest.raises(account_service.LoginFailed):
            await log_in(session, email=f"guess{attempt}@example.com", password="x", ip="192.0.2.7")
    with pytest.raises(account_service.LoginThrottled):
        await log_in(session, email="ada@example.com", password=PASSWORD, ip="192.0.2.7")
    assert await log_in(session, email="ada@example.com", password=PASSWORD, ip="192.0.2.8")


async def test_a_success_resets_the_account_counter(session: AsyncSession) -> None:
    await sign_up(session, email="ada@example.com", password=PASSWORD)
    for _ in range(2):
        for _ in range(account_service.PAIR_FAILURE_LIMIT - 1):
            with pytest.raises(account_service.LoginFailed):
                await log_in(session, email="ada@example.com", password="nope", ip=None)
        assert await log_in(session, email="ada@example.com", password=PASSWORD, ip=None)


async def test_sessions_are_stored_hashed_and_end_at_logout(session: AsyncSession) -> None:
    user = await sign_up(session, email="ada@example.com", password=PASSWORD)
    started = await account_service.start_session(session, user=user, ip="192.0.2.1", user_agent="test")
    assert len(started.token) >= 43 and started.row.id != started.token and started.token not in started.row.id
    current = await account_service.resolve_session(session, token=started.token)
    assert current is not None and current.user.id == user.id
    assert await account_service.resolve_session(session, token=started.row.id) is None  # the hash is no key
    await account_service.end_session(session, session_id=started.row.id)
    assert await account_service.resolve_session(session, token=started.token) is None


async def test_changing_the_password_ends_the_other_sessions(session: AsyncSession) -> None:
    user = await sign_up(session, email="ada@example.com", password=PASSWORD)
    here = await account_service.start_session(session, user=user, ip=None, user_agent=None)
    elsewhere = await account_service.start_session(session, user=user, ip=None, user_agent=None)
    with pytest.raises(ValidationFailed) as caught:
        await account_service.change_password(
            session,
            user=user,
            current_password="wrong",
            new_password="n3w pass",
            keep_session_id=here.row.id,
            ip=None,
            checkpoint=session.commit,
            settings=SETTINGS,
        )
    assert caught.value.errors[0].param == "current_password"
    await account_service.change_password(
        session,
        user=user,
        current_password=PASSWORD,
        new_password="a new passphrase",
        keep_session_id=here.row.id,
        ip=None,
        checkpoint=session.commit,
        settings=SETTINGS,
    )
    assert await account_service.resolve_session(session, token=here.token) is not None
    assert await account_service.resolve_session(session, token=elsewhere.token) is None
    with pytest.raises(account_service.LoginFailed):
        await log_in(session, email="ada@example.com", password=PASSWORD, ip=None)
    assert await log_in(session, email="ada@example.com", password="a new passphrase", ip=None)


async def test_invites_are_owner_only_single_use_and_grant_their_role(session: AsyncSession) -> None:
    owner = await sign_up(session, email="owner@example.com", password=PASSWORD, name="Team")
    guest = await sign_up(session, email="guest@example.com", password=PASSWORD)
    [team] = await workspace_members.workspaces_of(session, user=owner)
    invite = await workspace_members.create_invite(session, actor=team, role="member")
    joined = await workspace_members.accept_invite(session, token=invite.token, user=guest)
    assert joined.id == team.workspace.id
    guest_access = await workspace_members.access(session, user=guest, workspace_slug=team.workspace.slug)
    assert not guest_access.is_owner
    with pytest.raises(workspace_members.InviteNotFound):
        await workspace_members.accept_invite(session, token=invite.token, user=guest)
    with pytest.raises(workspace_members.NotAllowed):
        await workspace_members.create_invite(session, actor=guest_access, role="owner")


async def test_the_last_owner_can_neither_leave_nor_step_down(session: AsyncSession) -> None:
    owner = await sign_up(session, email="owner@example.com", password=PASSWORD)
    [team] = await workspace_members.workspaces_of(session, user=owner)
    with pytest.raises(workspace_members.LastOwner):
        await workspace_members.remove_member(session, actor=team, user_id=owner.id)
    with pytest.raises(workspace_members.LastOwner):
        await workspace_members.set_role(session, actor=team, user_id=owner.id, role="member")


async def test_other_peoples_workspaces_look_like_missing_ones(session: AsyncSession) -> None:
    await sign_up(session, email="a@example.com", password=PASSWORD, name="alpha")
    other = await sign_up(session, email="b@example.com", password=PASSWORD, name="beta")
    with pytest.raises(workspace_members.MembershipNotFound) as exists:
        await workspace_members.access(session, user=other, workspace_slug="alpha")
    with pytest.raises(workspace_members.MembershipNotFound) as missing:
        await workspace_members.access(session, user=other, workspace_slug="nothing-here")
    assert exists.value.status_code == missing.value.status_code == 404
