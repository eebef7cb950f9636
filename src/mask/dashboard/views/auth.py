"""Sign up, log in and out, the `/app` landing redirect, new workspaces and invite links."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.responses import Response

from mask.account import service as account_service
from mask.account import two_factor
from mask.dashboard import security
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.kit.errors import MaskError, ValidationFailed
from mask.models.account import User
from mask.workspace import members as workspace_members

INVITE_PATH = re.compile(r"^/app/invites/([\w-]{1,128})$")


def _next(page: Page, value: str | None) -> str:
    return security.safe_next(value) or "/app"


def _invite_token(given: str, next_url: str | None) -> str:
    """The invitation a sign-up answers: its own `invite`, or the invite page it was reached from (an invite link →
    "Log in to join" → "Create a free account" carries it as `next`). Signing up from an invitation joins only the
    inviting workspace: no personal workspace besides."""
    if given:
        return given[:128]
    found = INVITE_PATH.match(next_url or "")
    return found.group(1) if found else ""


@view(login=False)
async def home(page: Page) -> Response:
    """/app: the user's first workspace, or the sign-up page for a visitor."""
    if page.user is None:
        return page.redirect("/app/login")
    if not page.workspaces:
        return page.redirect("/app/workspaces/new")
    done = page.request.query_params.get("done")
    return page.redirect(f"/app/{page.workspaces[0].workspace.slug}/links", done=done)


@view(login=False)
async def login_form(page: Page) -> Response:
    next_url = security.safe_next(page.request.query_params.get("next"))
    if page.user is not None:
        return page.redirect(next_url or "/app")
    return page.render("auth/login.html", next=next_url or "", values={}, signup_open=page.settings.signup == "open")


@view(login=False)
async def login(page: Page) -> Response:
    email, password = await page.field("email"), await page.field("password")
    next_url = _next(page, await page.field("next"))
    try:
        user = await account_service.log_in(
            page.db, email=email, password=password, ip=page.ip, checkpoint=page.checkpoint
        )
    except (account_service.LoginFailed, account_service.LoginThrottled) as error:
        # The attempt was reserved and committed before the password was checked: nothing here to keep.
        raise Rerender(
            page.render(
                "auth/login.html",
                status=error.status_code,
                headers=error.headers,
                errors={"__all__": error.message},
                values={"email": email},
                next=security.safe_next(await page.field("next")) or "",
                signup_open=page.settings.signup == "open",
            )
        ) from error
    return await _sign_in(page, user, next_url)


async def _sign_in(page: Page, user: User, next_url: str, *, done: str | None = None) -> Response:
    """A session for someone who proved who they are, or, with two-factor sign-in on, the code step first (a
    password, a mailed link: neither is enough alone)."""
    if user.totp_secret is not None:
        page.end_session()
        if page.user_session is not None:
            await account_service.end_session(page.db, session_id=page.user_session.id)
        token = two_factor.challenge_token(page.settings, user)
        page.cookies.append((security.cookie_name(page.settings, "mask_2fa"), token, two_factor.CHALLENGE_LIFETIME))
        query = f"?{urlencode({'next': next_url})}" if next_url != "/app" else ""
        return page.redirect(f"/app/login/two-factor{query}", done=done)
    if page.user_session is not None:
        await account_service.end_session(page.db, session_id=page.user_session.id)
    started = await account_service.start_session(
        page.db, user=user, ip=page.ip, user_agent=page.request.headers.get("user-agent")
    )
    page.start_session(started.token)
    return page.redirect(next_url, done=done)


def _closed(page: Page, message: str) -> Response:
    return page.render("auth/message.html", status=403, title="Sign-up is closed", message=message, action_url="")


@view(login=False)
async def signup_form(page: Page) -> Response:
    if page.user is not None:
        return page.redirect("/app")
    next_url = security.safe_next(page.request.query_params.get("next")) or ""
    invite_token = _invite_token(page.request.query_params.get("invite", ""), next_url)
    invited_to = None
    if page.settings.signup == "closed":
        return _closed(page, "This server does not take new accounts; ask its operator for one.")
    if invite_token:
        _, invited_to = await workspace_members.find_invite(page.db, token=invite_token)
    elif page.settings.signup == "invite":
        return _closed(page, "This server admits new accounts by invitation only: open the invite link you were sent.")
    return page.render("auth/signup.html", next=next_url, values={}, invite_token=invite_token, invited_to=invited_to)


@view(login=False)
async def signup(page: Page) -> Response:
    email, password = await page.field("email"), await page.field("password")
    workspace_name = await page.field("workspace_name")
    next_url = security.safe_next(await page.field("next"))
    invite_token = _invite_token(await page.field("invite"), next_url) or None
    try:
        await account_service.sign_up(
            page.db,
            settings=page.settings,
            email=email,
            password=password,
            workspace_name=workspace_name,
            invite_token=invite_token,
            ip=page.ip,
            checkpoint=page.checkpoint,
        )
    except account_service.SignupClosed as error:
        raise Rerender(_closed(page, error.message)) from error
    except MaskError as error:
        invited_to = None
        if invite_token and not isinstance(error, workspace_members.InviteNotFound):
            _, invited_to = await workspace_members.find_invite(page.db, token=invite_token)
        raise Rerender(
            page.render(
                "auth/signup.html",
                status=error.status_code,
                headers=error.headers,
                errors=field_errors(error),
                values={"email": email, "workspace_name": workspace_name},
                next=next_url or "",
                invite_token=invite_token or "",
                invited_to=invited_to,
            )
        ) from error
    # The same answer whether the address was new or already had an account (which got a mail instead).
    return page.redirect("/app/signup/sent")


@view(login=False)
async def signup_sent(page: Page) -> Response:
    return page.render(
        "auth/message.html",
        title="Check your inbox",
        message="We sent you a mail. Open the link in it to confirm your address and finish signing up. "
        "Nothing arrived after a few minutes? Look in your spam folder.",
        action_url="/app/login",
        action_label="Go to log in",
    )


@view(login=False)
async def verify_form(page: Page) -> Response:
    """A confirmation link from a mail: a button, so that a mail scanner opening the link confirms nothing."""
    user = await account_service.check_token(page.db, token=page.request.path_params["token"], purpose="verify")
    return page.render("auth/verify.html", target_email=user.email, here=page.request.url.path)


@view(login=False)
async def verify(page: Page) -> Response:
    user = await account_service.verify_email(page.db, token=page.request.path_params["token"])
    if page.user is None or page.user.id != user.id:
        return await _sign_in(page, user, "/app", done="email-verified")
    return page.redirect("/app", done="email-verified")


@view(login=False)
async def reset_request_form(page: Page) -> Response:
    return page.render("auth/reset_request.html", values={})


@view(login=False)
async def reset_request(page: Page) -> Response:
    email = await page.field("email")
    try:
        await account_service.request_password_reset(page.db, settings=page.settings, email=email, ip=page.ip)
    except MaskError as error:
        raise Rerender(
            page.render(
                "auth/reset_request.html",
                status=error.status_code,
                headers=error.headers,
                errors={"__all__": error.message},
                values={"email": email},
            )
        ) from error
    return page.redirect("/app/password-reset/sent")


@view(login=False)
async def reset_sent(page: Page) -> Response:
    return page.render(
        "auth/message.html",
        title="Check your inbox",
        message="If an account uses this address, we mailed it a link to choose a new password. The link works "
        "once, for an hour.",
        action_url="/app/login",
        action_label="Back to log in",
    )


@view(login=False)
async def reset_form(page: Page) -> Response:
    user = await account_service.check_token(page.db, token=page.request.path_params["token"], purpose="reset")
    return page.render("auth/reset.html", target_email=user.email, here=page.request.url.path)


@view(login=False)
async def reset(page: Page) -> Response:
    token = page.request.path_params["token"]
    try:
        user = await account_service.reset_password_with_token(
            page.db, token=token, new_password=await page.field("password")
        )
    except ValidationFailed as error:
        target = await account_service.check_token(page.db, token=token, purpose="reset")
        raise Rerender(
            page.render(
                "auth/reset.html",
                status=error.status_code,
                errors=field_errors(error),
                target_email=target.email,
                here=page.request.url.path,
            )
        ) from error
    page.end_session()
    # Every session of the account ended with the reset (this browser's too, if it had one).
    page.user_session = None
    return await _sign_in(page, user, "/app", done="password-reset")


@view(login=False)
async def logout(page: Page) -> Response:
    if page.user_session is not None:
        await account_service.end_session(page.db, session_id=page.user_session.id)
    page.end_session()
    return page.redirect("/app/login", done="logged-out")


@view()
async def new_workspace_form(page: Page) -> Response:
    return page.render("workspace_new.html", values={})


@view()
async def new_workspace(page: Page) -> Response:
    name = await page.field("name")
    try:
        workspace = await workspace_members.create_workspace(page.db, user=page.me, name=name)
    except MaskError as error:
        raise Rerender(
            page.render(
                "workspace_new.html", status=error.status_code, errors=field_errors(error), values={"name": name}
            )
        ) from error
    return page.redirect(f"/app/{workspace.slug}/links", done="workspace-created")


@view(login=False)
async def invite(page: Page) -> Response:
    """An invite link: who invites you where, and a button to accept (accepting is a POST)."""
    token = page.request.path_params["token"]
    found, workspace = await workspace_members.find_invite(page.db, token=token)
    already = page.user is not None and any(item.workspace.id == workspace.id for item in page.workspaces)
    return page.render(
        "invite.html",
        invite=found,
        invited_to=workspace,
        token=token,
        already=already,
        here=page.request.url.path,
        signup_allowed=page.settings.signup != "closed",
    )


@view()
async def accept_invite(page: Page) -> Response:
    workspace = await workspace_members.accept_invite(page.db, token=page.request.path_params["token"], user=page.me)
    return page.redirect(f"/app/{workspace.slug}/links", done="joined")
