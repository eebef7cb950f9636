"""Dashboard pages with 10,000 links in the workspace: server time per page, against a near-empty workspace.

    .venv/bin/python bench/dashboard.py [--links 10000] [--clicks 20000] [--rounds 30] [--backends sqlite,postgres]

Each page, and each analytics breakdown card (the analytics pages load their cards on their own), is requested
in-process (httpx over ASGI, the whole app: dispatch, dashboard, session, services, templates) by a logged-in
owner. Printed per page: p50/p95 of the server time the page reports in its `Server-Timing` header, and the
ratio to the same page in a workspace with one link and no clicks, measured in the same run, request for
request in turns (the baseline: everything but the data). The issue's target is under 100 ms per page.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
from _common import percentile, throwaway_database

from mask.account import service as account_service
from mask.analytics import service as analytics_service
from mask.bio_page import service as bio_page_service
from mask.bio_page.schemas import BioPageCreate
from mask.bootstrap import create_app
from mask.click import service as click_service
from mask.click.schemas import EnrichedClick
from mask.config import Settings
from mask.db import session_scope
from mask.domain import service as domain_service
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.link import service as link_service
from mask.link.schemas import LinkCreate
from mask.workspace import members as workspace_members

BATCH = 250
COUNTRIES = ["US", "DE", "FR", "GB", "IN", "BR", "JP", None]
DEVICES = ["desktop", "mobile", "tablet"]
BROWSERS = ["Chrome", "Safari", "Firefox", "Edge"]
REFERRERS = ["news.ycombinator.com", "t.co", "google.com", None]


async def seed(app: object, email: str, *, links: int, clicks: int) -> tuple[str, str, str, str]:
    """An owner with a workspace holding `links` links (tags, two domains, a bio page) and `clicks` clicks."""
    context = app.context  # type: ignore[attr-defined]
    settings = context.settings
    async with session_scope(context.sessionmaker) as session:
        user = await account_service.create_user(session, email=email, password="bench passphrase")
        [access] = await workspace_members.workspaces_of(session, user=user)
        workspace = access.workspace
        started = await account_service.start_session(session, user=user, ip=None, user_agent="bench")
        label = email.split("@")[0]
        domains = (f"go.{label}.example", f"l.{label}.example")
        for name in domains:
            await domain_service.create(session, settings=settings, workspace_id=workspace.id, name=name)
        await bio_page_service.create(
            session,
            settings=settings,
            workspace_id=workspace.id,
            data=BioPageCreate(handle=f"bench{workspace.id[-6:].lower()}"),
        )
    link_ids: list[str] = []
    for start in range(0, links, BATCH):
        async with session_scope(context.sessionmaker) as session:
            for index in range(start, min(links, start + BATCH)):
                domain = (*domains, None)[index % 3]
                tags = ["bench", f"campaign-{index % 40}"] if index % 2 == 0 else None
                data = LinkCreate(
                    url=f"https://example.com/articles/{index}?utm=bench",
                    domain=domain,
                    tags=tags,
                    slug=f"s{index}-{workspace.id[-4:]}",
                )
                view = await link_service.create(session, settings=settings, workspace_id=workspace.id, data=data)
                link_ids.append(view.link.id)
    now = utcnow()
    rng = random.Random(8)
    for start in range(0, clicks, 2000):
        batch = [
            EnrichedClick(
                click_id=new_id("clk"),
                clicked_at=now - timedelta(minutes=rng.randrange(60 * 24 * 29)),
                workspace_id=workspace.id,
                domain=settings.short_domain,
                visitor_hash=f"v{rng.randrange(clicks // 3 + 1)}",
                link_id=link_ids[int(rng.paretovariate(1.2)) % len(link_ids)] if link_ids else None,
                country=rng.choice(COUNTRIES),
                device=rng.choice(DEVICES),
                browser=rng.choice(BROWSERS),
                os="Linux",
                referrer=rng.choice(REFERRERS),
                is_bot=rng.random() < 0.05,
            )
            for _ in range(min(2000, clicks - start))
        ]
        async with session_scope(context.sessionmaker) as session:
            await click_service.record_batch(session, batch, [analytics_service.record_clicks])
    first_link = link_ids[min(1, len(link_ids) - 1)] if link_ids else ""  # the most clicked one
    return workspace.slug, started.token, first_link, domains[0]


def pages(slug: str, link_id: str, domain: str) -> list[tuple[str, str]]:
    base = f"/app/{slug}"
    listed = [
        ("links", f"{base}/links"),
        ("links, search", f"{base}/links?q=articles/99"),
        ("links, tag filter", f"{base}/links?tag=campaign-7"),
        ("links, domain filter", f"{base}/links?domain={domain}"),
        ("links, new", f"{base}/links/new"),
        ("analytics 30d", f"{base}/analytics"),
        ("analytics 1y, bots too", f"{base}/analytics?interval=1y&bots=include"),
        *(
            (f"  card: {group_by}", f"{base}/analytics/breakdown?interval=30d&group_by={group_by}")
            for group_by in ("links", "countries", "referrers", "devices", "utm_sources", "tags")
        ),
        ("bio pages", f"{base}/bio"),
        ("domains", f"{base}/domains"),
        ("webhooks", f"{base}/webhooks"),
        ("settings", f"{base}/settings"),
        ("api keys", f"{base}/settings/keys"),
        ("account", "/app/account"),
    ]
    listed.insert(4, ("link detail + chart", f"{base}/links/{link_id}"))
    return listed


async def measure(clients: list[httpx.AsyncClient], paths: list[str], rounds: int) -> list[list[float]]:
    """Server times of `paths[i]` through `clients[i]`, taking turns so both see the same machine load."""
    timings: list[list[float]] = [[] for _ in clients]
    for _ in range(rounds):
        for index, (http, path) in enumerate(zip(clients, paths, strict=True)):
            response = await http.get(path)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
            timings[index].append(float(response.headers["server-timing"].split("dur=")[1]))
    return timings


async def run(backend: str, url: str, *, links: int, clicks: int, rounds: int) -> list[str]:
    app = create_app(
        Settings(
            env="test",
            database_url=url,
            short_domain="localhost:8000",
            rate_limit_enabled=False,
            serve_background=False,
            title_fetch_enabled=False,
        )
    )
    await app.context.startup()
    lines = []
    try:
        began = time.perf_counter()
        big = await seed(app, "big@bench.example", links=links, clicks=clicks)
        seeded = time.perf_counter() - began
        empty = await seed(app, "empty@bench.example", links=1, clicks=0)
        lines.append(f"[{backend}] seeded {links:,} links and {clicks:,} clicks in {seeded:.1f} s")
        transport = httpx.ASGITransport(app=app)
        clients = [
            httpx.AsyncClient(transport=transport, base_url="http://localhost:8000", cookies={"mask_session": token})
            for _, token, _, _ in (empty, big)
        ]
        lines.append(f"{'page':<26} {'p50 ms':>8} {'p95 ms':>8} {'1-link p50':>10} {'ratio':>6}  target < 100 ms")
        for (name, empty_path), (_, big_path) in zip(
            pages(empty[0], empty[2], empty[3]), pages(big[0], big[2], big[3]), strict=True
        ):
            await measure(clients, [empty_path, big_path], 3)  # warm: templates compiled, caches filled
            base_times, timings = await measure(clients, [empty_path, big_path], rounds)
            p50, p95 = percentile(timings, 50), percentile(timings, 95)
            base = percentile(base_times, 50)
            verdict = "ok" if p95 < 100 else "SLOW"
            lines.append(f"{name:<26} {p50:8.1f} {p95:8.1f} {base:10.1f} {p50 / base:6.2f}  {verdict}")
        for http in clients:
            await http.aclose()
    finally:
        await app.context.shutdown()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--clicks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with throwaway_database(backend) as url:
            for line in asyncio.run(run(backend, url, links=args.links, clicks=args.clicks, rounds=args.rounds)):
                print(line, flush=True)


if __name__ == "__main__":
    main()
