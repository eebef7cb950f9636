"""Sign up, log in and out, the `/app` landing redirect, new workspaces and invite links."""

from __future__ import annotations

from starlette.responses import Response

from mask.account import service as account_service
from mask.dashboard import security
from mask.dashboard.web import Page, Rerender, field_errors, view
from mask.kit.errors import MaskError
from mask.workspace import members as workspace_members


def _next(page: Page, value: str | None) -> str:
    return security.safe_next(value) or "/app"


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
    return page.render("auth/login.html", next=next_url or "", values={})


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
            )
        ) from error
    if page.user_session is not None:
        await account_service.end_session(page.db, session_id=page.user_session.id)
    started = await account_service.start_session(
        page.db, user=user, ip=page.ip, user_agent=page.request.headers.get("user-agent")
    )
    page.start_session(started.token)
    return page.redirect(next_url)


@view(login=False)
async def signup_form(page: Page) -> Response:
    if page.user is not None:
        return page.redirect("/app")
    next_url = security.safe_next(page.request.query_params.get("next")) or ""
    return page.render("auth/signup.html", next=next_url, values={})


@view(login=False)
async def signup(page: Page) -> Response:
    email, password = await page.field("email"), await page.field("password")
    workspace_name = await page.field("workspace_name")
    next_url = security.safe_next(await page.field("next"))
    try:
        user = await account_service.sign_up(
            page.db,
            email=email,
            password=password,
            workspace_name=workspace_name,
            ip=page.ip,
            checkpoint=page.checkpoint,
            per_hour=page.settings.signup_rate_per_hour,
        )
    except MaskError as error:
        raise Rerender(
            page.render(
                "auth/signup.html",
                status=error.status_code,
                errors=field_errors(error),
                values={"email": email, "workspace_name": workspace_name},
                next=next_url or "",
            )
        ) from error
    started = await account_service.start_session(
        page.db, user=user, ip=page.ip, user_agent=page.request.headers.get("user-agent")
    )
    page.start_session(started.token)
    if next_url:
        return page.redirect(next_url)
    [first] = await workspace_members.workspaces_of(page.db, user=user)
    return page.redirect(f"/app/{first.workspace.slug}/links", done="welcome")


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
        "invite.html", invite=found, invited_to=workspace, token=token, already=already, here=page.request.url.path
    )


@view()
async def accept_invite(page: Page) -> Response:
    workspace = await workspace_members.accept_invite(page.db, token=page.request.path_params["token"], user=page.me)
    return page.redirect(f"/app/{workspace.slug}/links", done="joined")
