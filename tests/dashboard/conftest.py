"""Dashboard tests drive the real ASGI app with httpx: cookies are kept, forms are read for their CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from mask.account import passwords
from mask.app import MaskApp
from tests.waiting import eventually

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://[^/\s]+(/app/\S+)")


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Real Argon2id with small cost parameters, so many sign-ups do not dominate the suite's time."""
    monkeypatch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def new_client(app: MaskApp, ip: str = "203.0.113.10") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost:8000")


@dataclass
class Person:
    """A browser-like client (its own cookie jar) of someone signed up, with their first workspace."""

    http: httpx.AsyncClient
    email: str
    workspace: str

    async def csrf(self, path: str = "/app/account") -> str:
        page = await self.http.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    async def post(
        self,
        path: str,
        data: Mapping[str, object] | None = None,
        *,
        form_page: str | None = None,
    ) -> httpx.Response:
        body = dict(data or {})
        body["csrf_token"] = await self.csrf(form_page or "/app/account")
        return await self.http.post(path, data=body)

    @property
    def base(self) -> str:
        return f"/app/{self.workspace}"


async def sign_up(
    http: httpx.AsyncClient, email: str, *, name: str | None = None, password: str = PASSWORD
) -> httpx.Response:
    form = await http.get("/app/signup")
    assert form.status_code == 200
    return await http.post(
        "/app/signup",
        data={"email": email, "password": password, "workspace_name": name or "", "csrf_token": csrf_of(form.text)},
    )


async def log_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD, next_url: str = "") -> httpx.Response:
    form = await http.get("/app/login")
    return await http.post(
        "/app/login", data={"email": email, "password": password, "next": next_url, "csrf_token": csrf_of(form.text)}
    )


def delivered(app: MaskApp, to: str, kind: str) -> list[EmailMessage]:
    """The mails of `kind` delivered to `to` so far, oldest first (without MASK_SMTP_URL, the .eml files that
    the mail sender writes to MASK_MAIL_DIR)."""
    return delivered_in(Path(app.context.settings.mail_dir), to, kind)


def delivered_in(directory: Path, to: str, kind: str) -> list[EmailMessage]:
    """The mails of `kind` to `to` in a MASK_MAIL_DIR, oldest first."""
    found = []
    for path in sorted(directory.glob("*.eml")) if directory.exists() else []:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["To"] == to and message["X-Mask-Mail"] == kind:
            assert isinstance(message, EmailMessage)
            found.append(message)
    return found


def link_in(message: EmailMessage) -> str:
    """The dashboard path of the (first) link in a mail's plain-text part."""
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    return found.group(1)


async def mailed_link(app: MaskApp, to: str, kind: str, *, count: int = 1) -> str:
    """The link in the `count`-th mail of `kind` delivered to `to`, once it has been delivered."""
    await eventually(lambda: len(delivered(app, to, kind)) >= count, message=f"mail {kind} #{count} to {to}")
    return link_in(delivered(app, to, kind)[count - 1])


async def confirm_email(app: MaskApp, http: httpx.AsyncClient, email: str) -> httpx.Response:
    """Open the confirmation link mailed to `email` and press its button (which logs that person in)."""
    path = await mailed_link(app, email, "verify_email")
    form = await http.get(path)
    assert form.status_code == 200, form.text
    return await http.post(path, data={"csrf_token": csrf_of(form.text)})


async def make_person(app: MaskApp, email: str, *, name: str | None = None, ip: str = "203.0.113.10") -> Person:
    """Someone who signed up and confirmed their address (which logs them in)."""
    http = new_client(app, ip)
    response = await sign_up(http, email, name=name)
    assert response.status_code == 303 and response.headers["location"] == "/app/signup/sent", response.text
    confirmed = await confirm_email(app, http, email)
    assert confirmed.status_code == 303, confirmed.text
    landing = await http.get("/app")
    assert landing.status_code == 303, landing.text
    workspace = landing.headers["location"].split("/")[2]
    return Person(http=http, email=email, workspace=workspace)
