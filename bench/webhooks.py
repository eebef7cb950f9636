"""Webhook delivery: events/s from the outbox to a local receiver, signed, attempted and logged.

    .venv/bin/python bench/webhooks.py [--events 5000] [--endpoints 2] [--backends sqlite,postgres]

For each backend: N events (link-sized payloads) are written to the outbox, then a dispatcher is started and
timed until every delivery (events × endpoints) is recorded as succeeded in the database. The receiver is a
separate uvicorn process on loopback answering 204. Then single events are committed one at a time to measure
the latency from commit to receipt (the dispatcher is woken by the commit, not by its poll).

Baseline measured in the same run: the same number of signed bodies POSTed straight to the receiver with
httpx in the dispatcher's shape (one client per endpoint, 8 requests at once to each), no database at all.
The ratio is the cost of durability (outbox, fan-out, leases, attempt log) over bare HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
from _common import free_port, percentile, throwaway_database
from sqlalchemy import func, select

from mask.config import Settings
from mask.context import AppContext
from mask.db import session_scope
from mask.event import service as event_service
from mask.kit.ids import new_id
from mask.kit.time import utcnow
from mask.models.webhook import WebhookDelivery
from mask.webhook import service as webhook_service
from mask.webhook.dispatcher import WebhookDispatcher
from mask.webhook.policy import DeliveryPolicy
from mask.webhook.schemas import WebhookCreate
from mask.webhook.signing import generate_secret, signature_headers
from mask.workspace import service as workspace_service

PER_ENDPOINT = DeliveryPolicy().max_in_flight_per_endpoint
WRITE_BATCH = 500


def link_payload(index: int, workspace_id: str) -> dict[str, object]:
    """About the size of a real link.created payload."""
    now = utcnow().isoformat().replace("+00:00", "Z")
    return {
        "id": new_id("lnk"),
        "url": f"https://example.com/articles/{index}?utm_source=newsletter",
        "short_url": f"https://go.example.com/s{index}",
        "slug": f"s{index}",
        "domain": "go.example.com",
        "tags": ["bench", "launch"],
        "clicks": 0,
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "utm_term": None,
        "utm_content": None,
        "expires_at": None,
        "expired_url": None,
        "workspace_id": workspace_id,
        "created_at": now,
        "updated_at": now,
    }


async def received(http: httpx.AsyncClient, base: str) -> int:
    return int((await http.get(f"{base}/count")).text)


async def baseline(base: str, count: int, endpoints: int) -> float:
    """Signed POSTs straight to the receiver in the dispatcher's shape: the HTTP floor, in requests/s."""
    secret = generate_secret()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(
            json.dumps(
                {"id": new_id("evt"), "type": "link.created", "data": link_payload(index, "ws_bench")},
                separators=(",", ":"),
            )
        )
    limits = httpx.Limits(max_connections=PER_ENDPOINT, max_keepalive_connections=PER_ENDPOINT)
    clients = [httpx.AsyncClient(limits=limits, trust_env=False) for _ in range(endpoints)]

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            headers = signature_headers(secrets_=[secret], message_id=new_id("evt"), timestamp=utcnow(), body=body)
            headers["content-type"] = "application/json"
            response = await http.post(f"{base}/hook", content=body.encode(), headers=headers)
            assert response.status_code == 204

    started = time.perf_counter()
    await asyncio.gather(*(worker(http) for http in clients for _ in range(PER_ENDPOINT)))
    rate = count / (time.perf_counter() - started)
    for http in clients:
        await http.aclose()
    return rate


async def run_backend(url: str, base: str, events: int, endpoints: int) -> dict[str, float]:
    settings = Settings(database_url=url, webhooks_allow_private=True, short_domain="go.example.com", redis_url=None)
    context = AppContext.create(settings)
    async with session_scope(context.sessionmaker) as session:
        workspace = await workspace_service.create(session, slug="bench", plan="enterprise")
        for n in range(endpoints):
            await webhook_service.create(
                session,
                settings=settings,
                workspace_id=workspace.id,
                data=WebhookCreate(url=f"{base}/hook?endpoint={n}", events=["link.created"]),
            )
    for start in range(0, events, WRITE_BATCH):
        async with session_scope(context.sessionmaker) as session:
            for index in range(start, min(events, start + WRITE_BATCH)):
                await event_service.record(
                    session, workspace_id=workspace.id, type="link.created", data=link_payload(index, workspace.id)
                )
    expected = events * endpoints

    async def succeeded() -> int:
        async with session_scope(context.sessionmaker) as session:
            return int(
                await session.scalar(
                    select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "succeeded")
                )
                or 0
            )

    dispatcher = WebhookDispatcher(context, DeliveryPolicy(poll_interval=0.05))
    async with httpx.AsyncClient(trust_env=False) as http:
        before = await received(http, base)
        started = time.perf_counter()
        await dispatcher.start()
        first_at = None
        while True:
            await asyncio.sleep(0.05)
            if first_at is None and await received(http, base) > before:
                first_at = time.perf_counter() - started
            if await succeeded() >= expected:
                break
        drain = time.perf_counter() - started
        got = await received(http, base) - before

        latencies = []
        for index in range(30):  # one event per transaction, as an API request writes it
            count = await received(http, base)
            began = time.perf_counter()
            async with session_scope(context.sessionmaker) as session:
                await event_service.record(
                    session, workspace_id=workspace.id, type="link.created", data=link_payload(index, workspace.id)
                )
            while await received(http, base) < count + endpoints:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - began)
    await dispatcher.stop()
    failed = dispatcher.stats["failed"]
    await context.engine.dispose()
    return {
        "deliveries": expected,
        "received": got,
        "drain": drain,
        "rate": expected / drain,
        "first": first_at or float("nan"),
        "failed": failed,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "mean": statistics.fmean(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--endpoints", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()

    port = free_port()
    receiver = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_webhook_receiver.py")), str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/count", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        total = args.events * args.endpoints
        for backend in args.backends.split(","):
            # the baseline right before each run: on a shared machine the load drifts between runs
            floor = asyncio.run(baseline(base, total, args.endpoints))
            print(
                f"baseline  bare signed POSTs, httpx, {args.endpoints} clients × {PER_ENDPOINT} at once: "
                f"{floor:8.0f} requests/s ({total} requests)"
            )
            with throwaway_database(backend) as url:
                result = asyncio.run(run_backend(url, base, args.events, args.endpoints))
            print(
                f"{backend:<9} {args.events} events × {args.endpoints} endpoints = {result['deliveries']:.0f} "
                f"deliveries in {result['drain']:.2f} s: {result['rate']:8.0f} deliveries/s "
                f"(ratio to baseline {result['rate'] / floor:.2f}); first after {result['first'] * 1000:.0f} ms; "
                f"received {result['received']:.0f}, failed attempts {result['failed']:.0f}"
            )
            print(
                f"{'':<9} commit → receipt, one event at a time: p50={result['p50'] * 1000:.1f} ms  "
                f"p99={result['p99'] * 1000:.1f} ms  mean={result['mean'] * 1000:.1f} ms"
            )
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


if __name__ == "__main__":
    main()
