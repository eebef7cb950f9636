"""Shared dashboards in the dashboard (Settings → Shared dashboards): create with the address shown once, set and
remove the password, give a new address, revoke; errors shown on the form; another workspace's link refused."""

from __future__ import annotations

import html
import re

from sqlalchemy import text

from mask.app import MaskApp
from mask.db import session_scope
from tests.dashboard.conftest import Person, make_person, new_client

ADDRESS = re.compile(r'id="share-url"[^>]*value="([^"]+)"')


async def _link(app: MaskApp, person: Person, slug: str) -> str:
    created = await person.post(f"{person.base}/links", {"url": f"https://example.com/{slug}", "slug": slug})
    assert created.status_code == 303, created.text
    async with session_scope(app.context.sessionmaker) as session:
        found = await session.execute(text("SELECT id FROM links WHERE slug = :slug"), {"slug": slug})
        return str(found.scalar_one())


def _path(page: str) -> str:
    found = ADDRESS.search(page)
    assert found, page
    return "/" + html.unescape(found.group(1)).split("://", 1)[1].split("/", 1)[1]


async def test_share_a_link_copy_the_address_once_rotate_protect_and_revoke(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link(app, person, "launch")
    settings_page = f"{person.base}/settings/shared-dashboards"
    prefilled = await person.http.get(settings_page, params={"link_id": link_id})
    assert prefilled.status_code == 200 and f'value="{link_id}"' in prefilled.text
    analytics = await person.http.get(f"{person.base}/analytics", params={"link_id": link_id})
    assert f"shared-dashboards?link_id={link_id}" in analytics.text

    created = await person.post(
        settings_page, {"kind": "link_id", "target": link_id, "title": "Launch"}, form_page=settings_page
    )
    assert created.status_code == 201, created.text
    path = _path(created.text)
    visitor = new_client(app, "198.51.100.7")
    page = await visitor.get(path)
    assert page.status_code == 200 and "Launch" in page.text
    listed = await person.http.get(settings_page)
    assert path not in listed.text and f"/share/{path.split('/')[-1][:6]}…" in listed.text  # the hint only

    dashboard_id = re.search(r"/settings/shared-dashboards/(shd_\w+)/rotate", listed.text)
    assert dashboard_id
    base = f"{settings_page}/{dashboard_id.group(1)}"
    protected = await person.post(f"{base}/password", {"password": "open sesame!"}, form_page=settings_page)
    assert protected.status_code == 303
    assert 'type="password"' in (await visitor.get(path)).text
    opened = await person.post(f"{base}/password", {"remove": "1"}, form_page=settings_page)
    assert opened.status_code == 303 and "data-total" in (await visitor.get(path)).text

    rotated = await person.post(f"{base}/rotate", form_page=settings_page)
    assert rotated.status_code == 200
    new_path = _path(rotated.text)
    assert new_path != path
    assert (await visitor.get(path)).status_code == 404 and (await visitor.get(new_path)).status_code == 200

    revoked = await person.post(f"{base}/revoke", form_page=settings_page)
    assert revoked.status_code == 303
    assert (await visitor.get(new_path)).status_code == 404


async def test_form_errors_name_the_field_and_another_workspaces_link_is_refused(app: MaskApp) -> None:
    ada = await make_person(app, "ada@example.com")
    eve = await make_person(app, "eve@example.com", ip="203.0.113.20")
    theirs = await _link(app, ada, "private")
    settings_page = f"{eve.base}/settings/shared-dashboards"
    empty = await eve.post(settings_page, {"kind": "link_id", "target": ""}, form_page=settings_page)
    assert empty.status_code == 422 and 'id="e-target"' in empty.text
    short = await eve.post(settings_page, {"kind": "tag", "target": "x", "password": "short"}, form_page=settings_page)
    assert short.status_code == 422 and 'id="e-password"' in short.text
    refused = await eve.post(settings_page, {"kind": "link_id", "target": theirs}, form_page=settings_page)
    assert refused.status_code == 404 and 'id="e-target"' in refused.text
    assert "share-url" not in refused.text
    async with session_scope(app.context.sessionmaker) as session:
        assert (await session.execute(text("SELECT count(*) FROM shared_dashboards"))).scalar_one() == 0
    # Ada's shared dashboard: Eve's workspace's forms cannot touch it.
    ada_page = f"{ada.base}/settings/shared-dashboards"
    made = await ada.post(ada_page, {"kind": "link_id", "target": theirs}, form_page=ada_page)
    assert made.status_code == 201
    found = re.search(r"/settings/shared-dashboards/(shd_\w+)/rotate", made.text)
    assert found
    for action, data in (("rotate", {}), ("revoke", {}), ("password", {"password": "taken over!"})):
        response = await eve.post(f"{settings_page}/{found.group(1)}/{action}", data, form_page=settings_page)
        assert response.status_code == 404, action
    assert "share-url" not in (await eve.http.get(settings_page)).text
    assert found.group(1) not in (await eve.http.get(settings_page)).text
    visitor = new_client(app, "198.51.100.8")
    assert (await visitor.get(_path(made.text))).status_code == 200  # neither rotated nor revoked
