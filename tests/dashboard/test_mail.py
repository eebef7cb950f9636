"""Mail for real: SMTP delivery to a server on loopback (aiosmtpd), retries, and the flows mail makes possible:
confirming an address, resetting a password, enumeration-safe sign-up, invitations, MASK_SIGNUP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from mask.app import MaskApp
from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.mail import outbox as mail_outbox
from mask.mail.sender import MailSender
from mask.models.mail import OutboxMail
from tests.dashboard.conftest import (
    LINK,
    PASSWORD,
    confirm_email,
    csrf_of,
    delivered,
    log_in,
    mailed_link,
    make_person,
    new_client,
    sign_up,
)
from tests.redirect.servers import free_port
from tests.waiting import eventually


@dataclass
class Inbox:
    """What a real SMTP server on loopback received."""

    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope, message))
        return "250 OK"

    def to(self, address: str, kind: str) -> list[EmailMessage]:
        return [
            message
            for envelope, message in self.messages
            if address in envelope.rcpt_tos and message["X-Mask-Mail"] == kind
        ]


@pytest.fixture(scope="module")
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def _link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    return found.group(1)


async def test_sign_up_mail_is_delivered_over_smtp_in_text_and_html_and_its_link_signs_in(
    settings: Settings, inbox: Inbox, smtp_port: int
) -> None:
    from mask.bootstrap import create_app

    app = create_app(settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{smtp_port}"}))
    await app.context.startup()
    try:
        http = new_client(app)
        assert (await sign_up(http, "ada@example.com")).status_code == 303
        await eventually(lambda: inbox.to("ada@example.com", "verify_email") != [], message="the mail over SMTP")
        [message] = inbox.to("ada@example.com", "verify_email")
        assert message["Subject"] == "Confirm your e-mail address for MASK"
        assert message["From"] == "MASK <noreply@localhost>"
        html = message.get_body(("html",))
        assert html is not None and "Confirm my address" in html.get_content()
        path = _link(message)
        assert path.startswith("/app/verify/") and path in html.get_content()
        form = await http.get(path)
        confirmed = await http.post(path, data={"csrf_token": csrf_of(form.text)})
        assert confirmed.status_code == 303 and "mask_session=" in confirmed.headers["set-cookie"]
        assert (await http.get(path)).status_code == 404  # single use
        async with session_scope(app.context.sessionmaker) as db:
            [row] = (await db.execute(select(OutboxMail))).scalars()
        assert row.sent_at is not None and row.text == "" and row.html == ""  # the link is not kept once sent
    finally:
        await app.context.shutdown()


async def test_a_failed_delivery_is_retried_until_the_server_takes_it(settings: Settings, smtp_port: int) -> None:
    settings = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{smtp_port}"})
    context = AppContext.create(settings)  # no background process: this test drives the sender itself
    sender = MailSender(settings, context.sessionmaker, first_retry=timedelta(milliseconds=100))
    try:
        async with session_scope(context.sessionmaker) as db:
            await mail_outbox.queue(
                db,
                to="ops@example.com",
                kind=mail_outbox.PASSWORD_CHANGED,
                values={"email": "ops@example.com", "reset_link": "http://localhost:8000/app/password-reset"},
            )
        assert await sender.send_due() == 0  # nobody listens on the port yet
        async with session_scope(context.sessionmaker) as db:
            [row] = (await db.execute(select(OutboxMail))).scalars()
        assert row.attempts == 1 and row.sent_at is None and row.last_error
        handler = Inbox()
        controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:

            async def sent() -> bool:
                return await sender.send_due() == 1

            await eventually(sent, message="the retry")
            assert [message["To"] for _, message in handler.messages] == ["ops@example.com"]
        finally:
            controller.stop()
    finally:
        await context.engine.dispose()


async def test_sign_up_answers_alike_for_new_and_existing_addresses(app: MaskApp) -> None:
    await make_person(app, "ada@example.com")
    fresh, taken = new_client(app, ip="198.51.100.1"), new_client(app, ip="198.51.100.2")
    new_answer = await sign_up(fresh, "bob@example.com")
    old_answer = await sign_up(taken, "ada@example.com", password="someone else's password")
    for answer in (new_answer, old_answer):
        assert answer.status_code == 303 and answer.headers["location"] == "/app/signup/sent"
        assert "mask_session" not in answer.headers.get("set-cookie", "")
    assert (await fresh.get("/app/signup/sent")).text == (await taken.get("/app/signup/sent")).text
    # The owner of the existing account is told by mail; nothing else changed.
    path = await mailed_link(app, "ada@example.com", "signup_existing")
    assert path == "/app/login"
    assert (await log_in(new_client(app), "ada@example.com")).status_code == 303
    assert (await log_in(new_client(app), "ada@example.com", "someone else's password")).status_code == 401


async def test_a_password_reset_by_mail_ends_every_session_and_works_once(app: MaskApp) -> None:
    ada = await make_person(app, "ada@example.com")
    stranger = new_client(app, ip="198.51.100.9")
    form = await stranger.get("/app/password-reset")
    for email in ("ada@example.com", "nobody@example.com"):  # the same answer for both
        answer = await stranger.post("/app/password-reset", data={"email": email, "csrf_token": csrf_of(form.text)})
        assert answer.status_code == 303 and answer.headers["location"] == "/app/password-reset/sent"
    path = await mailed_link(app, "ada@example.com", "password_reset")
    assert delivered(app, "nobody@example.com", "password_reset") == []
    page = await stranger.get(path)
    assert page.status_code == 200 and "ada@example.com" in page.text
    short = await stranger.post(path, data={"password": "short", "csrf_token": csrf_of(page.text)})
    assert short.status_code == 422
    done = await stranger.post(path, data={"password": "a brand new passphrase", "csrf_token": csrf_of(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/app?done=password-reset"
    assert (await ada.http.get(f"{ada.base}/links")).status_code == 303  # Ada's old session is over
    again = await stranger.post(path, data={"password": "yet another passphrase", "csrf_token": csrf_of(page.text)})
    assert again.status_code == 404
    assert (await log_in(new_client(app), "ada@example.com")).status_code == 401
    assert (await log_in(new_client(app), "ada@example.com", "a brand new passphrase")).status_code == 303


async def test_a_reset_link_lets_the_owner_in_even_while_strangers_throttle_the_account(app: MaskApp) -> None:
    await make_person(app, "ada@example.com")
    for n in range(60):  # guesses from many networks Ada has never used: the account-wide limit is reached
        attacker = new_client(app, ip=f"10.{n}.0.1")
        await log_in(attacker, "ada@example.com", password=f"guess {n}")
    traveller = new_client(app, ip="192.0.2.200")  # Ada, from a new place
    assert (await log_in(traveller, "ada@example.com")).status_code == 429
    form = await traveller.get("/app/password-reset")
    await traveller.post("/app/password-reset", data={"email": "ada@example.com", "csrf_token": csrf_of(form.text)})
    path = await mailed_link(app, "ada@example.com", "password_reset")
    page = await traveller.get(path)
    reset = await traveller.post(path, data={"password": "a brand new passphrase", "csrf_token": csrf_of(page.text)})
    assert reset.status_code == 303
    assert (await traveller.get("/app")).status_code == 303  # signed in
    assert (
        await log_in(new_client(app, ip="192.0.2.201"), "ada@example.com", "a brand new passphrase")
    ).status_code == 303


async def test_an_invitation_by_mail_lets_a_newcomer_sign_up_into_the_workspace(app: MaskApp) -> None:
    owner = await make_person(app, "owner@example.com", name="Team")
    created = await owner.post(
        f"{owner.base}/settings/invites",
        {"role": "member", "email": "new@example.com"},
        form_page=f"{owner.base}/settings",
    )
    assert created.status_code == 201
    path = await mailed_link(app, "new@example.com", "invite")
    token = path.rsplit("/", 1)[1]
    newcomer = new_client(app, ip="198.51.100.77")
    invite_page = await newcomer.get(path)
    assert f"/app/signup?invite={token}" in invite_page.text
    form = await newcomer.get(f"/app/signup?invite={token}")
    assert "To join <strong>Team</strong>" in form.text
    answer = await newcomer.post(
        "/app/signup",
        data={"email": "new@example.com", "password": PASSWORD, "invite": token, "csrf_token": csrf_of(form.text)},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/app/signup/sent"
    assert (await confirm_email(app, newcomer, "new@example.com")).status_code == 303
    landing = await newcomer.get("/app")
    assert landing.headers["location"].startswith("/app/team/links")  # in the team, no workspace of their own
    assert (await newcomer.get(path)).status_code == 404  # the invite is used up


@pytest.mark.parametrize("settings_overrides", [{"signup": "closed"}])
async def test_closed_sign_up_leaves_only_the_command_line(app: MaskApp, client: httpx.AsyncClient) -> None:
    page = await client.get("/app/signup")
    assert page.status_code == 403 and "Sign-up is closed" in page.text
    login = await client.get("/app/login")
    assert "/app/signup" not in login.text
    answer = await client.post(
        "/app/signup", data={"email": "x@example.com", "password": PASSWORD, "csrf_token": csrf_of(login.text)}
    )
    assert answer.status_code == 403


@pytest.mark.parametrize("settings_overrides", [{"signup": "invite"}])
async def test_invite_only_sign_up_needs_an_open_invitation(app: MaskApp, client: httpx.AsyncClient) -> None:
    page = await client.get("/app/signup")
    assert page.status_code == 403 and "invitation only" in page.text
    assert (await client.get("/app/signup?invite=not-a-real-one")).status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"require_verified_email": True}])
async def test_links_need_a_confirmed_address_when_required(app: MaskApp) -> None:
    http = new_client(app)
    await sign_up(http, "ada@example.com")
    assert (await log_in(http, "ada@example.com")).status_code == 303
    workspace = (await http.get("/app")).headers["location"].split("/")[2]
    form = await http.get(f"/app/{workspace}/links/new")
    refused = await http.post(
        f"/app/{workspace}/links", data={"url": "https://example.com/a", "csrf_token": csrf_of(form.text)}
    )
    assert refused.status_code == 403 and "Confirm your e-mail address" in refused.text
    assert (await confirm_email(app, http, "ada@example.com")).status_code == 303
    form = await http.get(f"/app/{workspace}/links/new")
    created = await http.post(
        f"/app/{workspace}/links", data={"url": "https://example.com/a", "csrf_token": csrf_of(form.text)}
    )
    assert created.status_code == 303


@pytest.mark.parametrize("settings_overrides", [{"unverified_links_per_day": 2}])
async def test_an_unverified_hobby_workspace_has_a_daily_link_cap(app: MaskApp) -> None:
    http = new_client(app)
    await sign_up(http, "ada@example.com")
    await log_in(http, "ada@example.com")
    workspace = (await http.get("/app")).headers["location"].split("/")[2]

    async def create(n: int) -> httpx.Response:
        form = await http.get(f"/app/{workspace}/links/new")
        return await http.post(
            f"/app/{workspace}/links", data={"url": f"https://example.com/{n}", "csrf_token": csrf_of(form.text)}
        )

    assert [(await create(n)).status_code for n in range(3)] == [303, 303, 403]
    capped = await create(4)
    assert "2 links a day" in capped.text
    await confirm_email(app, http, "ada@example.com")
    assert (await create(5)).status_code == 303  # confirmed: no cap


async def test_mails_without_smtp_go_to_the_mail_directory_and_the_log(
    app: MaskApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="mask.mail")
    await sign_up(new_client(app), "ada@example.com")
    path = await mailed_link(app, "ada@example.com", "verify_email")
    await eventually(lambda: path in caplog.text, message="the link in the log")
    await asyncio.sleep(0)
