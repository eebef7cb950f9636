"""Dashboard tests drive the real ASGI app with httpx: cookies are kept, forms are read for their CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx
import pytest
from argon2 import PasswordHasher

from mask.account import passwords
from mask.app import MaskApp

PASSWORD = "correct horse battery staple"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


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


async def make_person(app: MaskApp, email: str, *, name: str | None = None, ip: str = "203.0.113.10") -> Person:
    http = new_client(app, ip)
    response = await sign_up(http, email, name=name)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    workspace = location.split("/")[2]
    return Person(http=http, email=email, workspace=workspace)
