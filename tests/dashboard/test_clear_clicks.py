"""The link analytics page's "Clear click data": what DELETE /v1/links/{id}/clicks does, behind a confirmation."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from mask.analytics import service as analytics_service
from mask.app import MaskApp
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.db import session_scope
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.link import Link
from tests.dashboard.conftest import Person, make_person
from tests.dashboard.test_analytics import _chart_total


async def _link_with_clicks(app: MaskApp, person: Person, slug: str) -> str:
    """A link made in the dashboard, with 4 human clicks and 2 bot clicks two hours ago."""
    created = await person.post(f"{person.base}/links", {"url": "https://example.com/", "slug": slug})
    assert created.status_code == 303
    async with session_scope(app.context.sessionmaker) as db:
        link = (await db.execute(select(Link).where(Link.slug == slug))).scalar_one()
    now = utcnow() - timedelta(hours=2)
    clicks = [
        EnrichedClick(
            click_id=new_id("clk"),
            clicked_at=now + timedelta(minutes=n),
            workspace_id=link.workspace_id,
            domain=link.domain,
            visitor_hash=f"v{n}",
            link_id=link.id,
            country="US",
            is_bot=n > 4,
        )
        for n in range(1, 7)
    ]
    async with session_scope(app.context.sessionmaker) as db:
        await click_service.record_batch(db, clicks, [analytics_service.record_clicks])
    return link.id


async def test_clear_click_data_empties_the_links_analytics_and_keeps_other_workspaces(app: MaskApp) -> None:
    person = await make_person(app, "ada@example.com")
    link_id = await _link_with_clicks(app, person, "mine")
    other = await make_person(app, "bob@example.com")
    other_link = await _link_with_clicks(app, other, "theirs")
    page_url = f"{person.base}/analytics?link_id={link_id}"
    page = await person.http.get(page_url)
    assert _chart_total(page.text) == 4
    form = re.search(r'<form method="post" action="([^"]*/clicks/delete)"[^>]*data-confirm="([^"]*)"', page.text)
    assert (
        form
        and form.group(1) == f"{person.base}/links/{link_id}/clicks/delete"
        and "Delete every click" in form.group(2)
    )

    # Someone else's link is not found from this workspace, and keeps its clicks.
    refused = await person.post(f"{person.base}/links/{other_link}/clicks/delete", form_page=page_url)
    assert refused.status_code == 404
    assert _chart_total((await other.http.get(f"{other.base}/analytics?link_id={other_link}")).text) == 4

    done = await person.post(form.group(1), form_page=page_url)
    assert done.status_code == 303 and "done=link-clicks-deleted" in done.headers["location"]
    after = await person.http.get(done.headers["location"])
    assert "Click data cleared" in after.text
    assert "chart-data" not in after.text or _chart_total(after.text) == 0
    everything = await person.http.get(f"{person.base}/analytics", params={"bots": "include", "interval": "all"})
    assert "chart-data" not in everything.text or _chart_total(everything.text) == 0
    assert _chart_total((await other.http.get(f"{other.base}/analytics?link_id={other_link}")).text) == 4
