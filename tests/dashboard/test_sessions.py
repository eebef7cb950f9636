"""Sign-up, log-in, cookies and sessions, CSRF, throttling, next= redirects: the dashboard's security rules."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from sqlalchemy import select

from mask.account import service as account_service
from mask.app import MaskApp
from mask.db import session_scope
from mask.models.account import UserSession
from mask.models.link import Link
from tests.dashboard.conftest import PASSWORD, confirm_email, csrf_of, log_in, make_person, new_client, sign_up


def _cookie(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


async def test_the_front_page_of_the_app_host_leads_to_the_dashboard(client: httpx.AsyncClient) -> None:
    root = await client.get("/")  # MASK's public front page (tests/dashboard/test_front_door.py)
    assert root.status_code == 200 and 'href="/app/login"' in root.text
    app_page = await client.get("/app")
    assert app_page.status_code == 303 and app_page.headers["location"] == "/app/login"
    login = await client.get("/app/login")
    assert login.status_code == 200 and "Log in" in login.text
    # On any other host (a workspace's short domain) these paths are short-link traffic, never the dashboard.
    for path in ("/", "/app", "/app/login"):
        other = await client.get(path, headers={"host": "go.example.com"})
        assert other.status_code == 404 and "Log in" not in other.text


async def test_confirming_the_address_starts_a_session_with_a_strict_cookie(app: MaskApp) -> None:
    http = new_client(app)
    response = await sign_up(http, "ada@example.com", name="Ada's team")
    assert response.status_code == 303 and response.headers["location"] == "/app/signup/sent"
    assert "mask_session" not in response.headers.get("set-cookie", "")  # signing up alone logs nobody in
    response = await confirm_email(app, http, "ada@example.com")
    assert response.status_code == 303 and response.headers["location"] == "/app?done=email-verified"
    cookie = _cookie(response, "mask_session")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower() and "secure" not in attributes
    assert "domain" not in attributes
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43  # 32 random bytes, base64url: 256 bits
    async with session_scope(app.context.sessionmaker) as db:
        stored = list((await db.execute(select(UserSession.id))).scalars())
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # only the hash is kept
    page = await http.get("/app/ada-s-team/links")
    assert page.status_code == 200 and "Create your first short link" in page.text


@pytest.mark.parametrize("settings_overrides", [{"env": "production", "secret_key": "x" * 40}])
async def test_production_cookies_are_secure_and_host_prefixed(app: MaskApp) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://localhost:8000") as http:
        anonymous = _cookie(await http.get("/app/signup"), "__Host-mask_csrf")
        assert "; secure" in anonymous.lower() and "httponly" in anonymous.lower()
        await sign_up(http, "ada@example.com")
        response = await confirm_email(app, http, "ada@example.com")
        assert response.status_code == 303
        cookie = _cookie(response, "__Host-mask_session")
        assert "; secure" in cookie.lower() and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert "path=/" in cookie.lower() and "domain=" not in cookie.lower()
        page = await http.get("/app/account")
        assert page.status_code == 200
        assert "max-age=" in page.headers["strict-transport-security"]
    insecure = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=insecure, base_url="http://localhost:8000") as http:
        plain = await http.get("/app/login")
        assert plain.status_code == 308 and plain.headers["location"] == "https://localhost:8000/app/login"


async def test_login_errors_do_not_reveal_whether_an_account_exists(app: MaskApp) -> None:
    await make_person(app, "ada@example.com")
    answers = []
    for email in ("ada@example.com", "nobody@example.com"):
        http = new_client(app, ip="198.51.100.20")
        response = await log_in(http, email, password="not the password")
        answers.append(
            (
                response.status_code,
                re.sub(r'value="[^"]*"', "", response.text).replace(email, "EMAIL"),
                response.headers.get("set-cookie"),
            )
        )
    assert answers[0][0] == answers[1][0] == 401
    assert answers[0][1] == answers[1][1]
    assert "The email or password is incorrect." in answers[0][1]
    assert answers[0][2] is None and answers[1][2] is None  # no session either way


async def test_a_good_login_rotates_the_session(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    old = person.http.cookies.get("mask_session")
    assert (await person.http.get("/app/login")).status_code == 303  # already logged in
    response = await person.post("/app/login", {"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 303
    new = _cookie(response, "mask_session").split(";")[0].split("=", 1)[1]
    assert new != old
    stale = new_client(app)
    stale.cookies.set("mask_session", old or "")
    assert (await stale.get(f"{person.base}/links")).status_code == 303  # the old session ended


async def test_logout_ends_the_session_on_the_server(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    token = person.http.cookies.get("mask_session")
    assert (await person.http.get("/app/logout")).status_code == 405  # no state change on GET
    response = await person.post("/app/logout")
    assert response.status_code == 303 and response.headers["location"].startswith("/app/login")
    replay = new_client(app)
    replay.cookies.set("mask_session", token or "")
    answer = await replay.get(f"{person.base}/links")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/app/login")


async def _link_count(app: MaskApp) -> int:
    async with session_scope(app.context.sessionmaker) as db:
        return len(list((await db.execute(select(Link.id))).scalars()))


async def test_state_changing_forms_without_a_valid_csrf_token_are_refused(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    other = await make_person(app, "bob@example.com")
    form = {"url": "https://example.com/x"}
    missing = await person.http.post(f"{person.base}/links", data=form)
    wrong = await person.http.post(f"{person.base}/links", data={**form, "csrf_token": "guess"})
    someone_elses = await person.http.post(f"{person.base}/links", data={**form, "csrf_token": await other.csrf()})
    token = await person.csrf()
    cross_site = await person.http.post(
        f"{person.base}/links", data={**form, "csrf_token": token}, headers={"origin": "https://evil.example"}
    )
    fetch_cross = await person.http.post(
        f"{person.base}/links", data={**form, "csrf_token": token}, headers={"sec-fetch-site": "cross-site"}
    )
    for response in (missing, wrong, someone_elses, cross_site, fetch_cross):
        assert response.status_code == 403
        assert "This form has expired" in response.text
    assert await _link_count(app) == 0
    accepted = await person.http.post(
        f"{person.base}/links",
        data={**form, "csrf_token": token},
        headers={"origin": "http://localhost:8000", "sec-fetch-site": "same-origin"},
    )
    assert accepted.status_code == 303 and await _link_count(app) == 1
    by_header = await person.http.post(
        f"{person.base}/links", data={"url": "https://example.com/y"}, headers={"x-csrf-token": token}
    )
    assert by_header.status_code == 303 and await _link_count(app) == 2


async def test_the_login_form_needs_its_csrf_token_too(app: MaskApp) -> None:
    await make_person(app, "ada@example.com")
    http = new_client(app)
    await http.get("/app/login")  # gets the anonymous CSRF cookie
    forged = await http.post("/app/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert forged.status_code == 403 and "mask_session" not in forged.headers.get("set-cookie", "")
    planted = new_client(app)
    planted.cookies.set("mask_csrf", "attacker-chosen")
    forged_pair = await planted.post(
        "/app/login", data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": "attacker-chosen"}
    )
    assert forged_pair.status_code == 403  # the form token is an HMAC of the cookie, not the cookie


async def test_failed_logins_are_throttled_per_source_and_never_lock_the_owner_out(app: MaskApp) -> None:
    await make_person(app, "ada@example.com")  # signs in from 203.0.113.10
    attacker = new_client(app, ip="192.0.2.66")
    for _ in range(account_service.PAIR_FAILURE_LIMIT):
        assert (await log_in(attacker, "ada@example.com", password="guess")).status_code == 401
    locked = await log_in(attacker, "ada@example.com")
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    assert int(locked.headers["retry-after"]) > 0
    owner = await log_in(new_client(app, ip="192.0.2.67"), "ada@example.com")
    assert owner.status_code == 303  # the stranger's failures do not lock the owner out

    await make_person(app, "bob@example.com")
    sprayer = new_client(app, ip="192.0.2.99")
    for attempt in range(account_service.SOURCE_FAILURE_LIMIT):
        assert (await log_in(sprayer, f"user{attempt}@example.com", password="guess")).status_code == 401
    assert (await log_in(sprayer, "bob@example.com")).status_code == 429  # per source
    assert (await log_in(new_client(app, ip="192.0.2.100"), "bob@example.com")).status_code == 303


OPEN_REDIRECTS = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/app",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "/app/../..//evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "https:evil.example",
    "/app@evil.example",
    "//evil.example/app",
    " //evil.example",
    "/app\r\nLocation: https://evil.example",
    "data:text/html,<script>alert(1)</script>",
    "///evil.example",
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("payload", OPEN_REDIRECTS)
async def test_next_never_leaves_the_site(app: MaskApp, payload: str) -> None:
    await make_person(app, "ada@example.com")
    http = new_client(app)
    form = await http.get("/app/login", params={"next": payload})
    assert form.status_code == 200 and "evil.example" not in form.text
    response = await http.post(
        "/app/login",
        data={"email": "ada@example.com", "password": PASSWORD, "next": payload, "csrf_token": csrf_of(form.text)},
    )
    assert response.status_code == 303
    location = response.headers["location"]
    resolved = urlsplit(urljoin("http://localhost:8000/app/login", location))
    assert resolved.netloc == "localhost:8000" and resolved.scheme == "http", location
    assert location.startswith("/app") and not location.startswith("//")


async def test_next_takes_a_logged_out_visitor_back_to_the_page_they_wanted(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    http = new_client(app)
    wanted = f"{person.base}/settings/keys"
    bounce = await http.get(wanted)
    assert bounce.status_code == 303
    login_url = bounce.headers["location"]
    assert login_url.startswith("/app/login?next=")
    form = await http.get(login_url)
    response = await http.post(
        "/app/login",
        data={"email": "ada@example.com", "password": PASSWORD, "next": wanted, "csrf_token": csrf_of(form.text)},
    )
    assert response.headers["location"] == wanted


async def test_every_dashboard_response_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/login")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["server-timing"].startswith("app;dur=")
