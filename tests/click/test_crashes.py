"""The click journal against real processes and real signals: SIGKILL of an HTTP worker while it answers
redirects, of the background process while it ships, and of one of two hosts behind Caddy.

What must hold: every redirect answered with a `302` is stored, once. A SIGKILL can also land after a click was
written to the journal but before its `302` left: that click is stored although its client saw an error, so the
only clicks beyond the answered ones are among the failed requests (answered <= stored <= answered + failed).
The links' counters agree with the stored clicks (no batch counted twice).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.backends import REDIS_URL, PostgresDatabase, SqliteTemplate, require_binary, require_service
from tests.redirect.servers import MASK, MaskServer, free_port
from tests.redirect.test_servers import REQUESTS, STOP_AFTER, _count, _load, _seed_links, _settle

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux only)"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, sqlite_template: SqliteTemplate) -> str:
    if request.param == "sqlite":
        return sqlite_template.clone()
    postgres: PostgresDatabase = request.getfixturevalue("postgres_database")
    postgres.reset()
    return postgres.url


def _segments(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("*.seg"))


def _wait_for(condition: object, timeout: float = 60.0) -> None:
    """A hang guard only: on a busy machine things take what they take."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("a condition did not come true in time")
        time.sleep(0.05)


def test_sigkill_of_a_worker_while_redirecting_loses_no_click(database: str, tmp_path: Path) -> None:
    port = free_port()
    domain = f"127.0.0.1:{port}"
    _seed_links(database, domain)
    journal = tmp_path / "clicks"
    env = {
        "MASK_DATABASE_URL": database,
        "MASK_SHORT_DOMAIN": domain,
        "MASK_CLICK_JOURNAL_DIR": str(journal),
        "MASK_CLICK_DRAIN_SECONDS": "120",  # a hang guard: SIGTERM ships everything
    }
    server = MaskServer(env, workers=2, port=port, log=tmp_path / "server.log").start()
    killed: list[int] = []
    try:
        _wait_for(lambda: len(server.http_workers()) == 2)

        def on_progress(answered: int) -> None:
            if not killed and answered >= STOP_AFTER:
                killed.append(server.http_workers()[0])
                os.kill(killed[0], signal.SIGKILL)

        answered, failed, reasons = asyncio.run(_load(server.url, on_progress))
        assert killed, "no worker was killed"
        _settle(database, answered, timeout=120)  # the dead worker's segment is finished: shipped meanwhile
    finally:
        server.stop()
    stored, counted = _count(database)
    assert STOP_AFTER <= answered and answered + failed == REQUESTS, reasons
    assert answered <= stored <= answered + failed, (answered, stored, failed)
    assert counted == stored
    assert _segments(journal) == []  # every segment wholly stored, then deleted


def test_sigkill_of_the_background_process_mid_batch_then_restart_stores_every_click_once(
    database: str, tmp_path: Path
) -> None:
    port = free_port()
    domain = f"127.0.0.1:{port}"
    _seed_links(database, domain)
    journal = tmp_path / "clicks"
    env = {
        "MASK_DATABASE_URL": database,
        "MASK_SHORT_DOMAIN": domain,
        "MASK_CLICK_JOURNAL_DIR": str(journal),
        "MASK_SERVE_BACKGROUND": "false",  # this test runs the background process itself
        "MASK_CLICK_BATCH_SIZE": "25",  # many small transactions: a SIGKILL lands in the middle of one
        "MASK_CLICK_STORE_YIELD_SECONDS": "0",
        "MASK_CLICK_DRAIN_SECONDS": "120",
    }
    server = MaskServer(env, workers=1, port=port, log=tmp_path / "server.log").start()
    try:
        answered, failed, reasons = asyncio.run(_load(server.url, lambda _answered: None))
    finally:
        server.stop()
    assert (answered, failed) == (REQUESTS, 0), reasons  # nothing interrupts this server
    assert _count(database) == (0, 0) and _segments(journal)  # all of it in the journal, nothing stored

    full_env = {**os.environ, "MASK_ENV": "test", "MASK_LOG_LEVEL": "warning", **env}
    with open(tmp_path / "worker.log", "ab") as log:
        first = subprocess.Popen([MASK, "worker"], env=full_env, stdout=log, stderr=log, start_new_session=True)
        try:
            _wait_for(lambda: _count(database)[0] > 0, timeout=120)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(10)
        at_kill = _count(database)
        assert 0 < at_kill[0] < REQUESTS, at_kill  # killed part-way
        assert at_kill[0] == at_kill[1]  # the batch in hand rolled back whole: clicks and counters agree

        second = subprocess.Popen([MASK, "worker"], env=full_env, stdout=log, stderr=log, start_new_session=True)
        try:
            _wait_for(lambda: _count(database)[0] >= REQUESTS, timeout=120)
            _wait_for(lambda: not _segments(journal), timeout=120)  # finished segments deleted once stored
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(120)
    assert _count(database) == (REQUESTS, REQUESTS)


CADDYFILE = """
{{
    admin off
    auto_https off
    storage file_system {{
        root {storage}
    }}
}}

http://127.0.0.1:{port} {{
    reverse_proxy 127.0.0.1:{first} 127.0.0.1:{second} {{
        lb_policy round_robin
    }}
}}
"""


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    require_service("Redis", REDIS_URL, 6379)
    prefix = f"mask-test-{secrets.token_hex(4)}:"
    yield prefix
    redis = Redis.from_url(REDIS_URL)
    keys = list(redis.scan_iter(f"{prefix}*"))
    if keys:
        redis.delete(*keys)
    redis.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_two_hosts_behind_caddy_one_killed_during_load_and_restarted_lose_no_click(
    postgres_database: PostgresDatabase, redis_prefix: str, tmp_path: Path
) -> None:
    caddy = require_binary("caddy", "scripts/debian-packages.sh caddy")
    postgres_database.reset()
    url = postgres_database.url
    port = free_port()
    domain = f"127.0.0.1:{port}"  # Caddy passes the Host header on: both hosts serve this short domain
    _seed_links(url, domain)
    shared = {
        "MASK_DATABASE_URL": url,
        "MASK_SHORT_DOMAIN": domain,
        "MASK_REDIS_URL": REDIS_URL,
        "MASK_REDIS_PREFIX": redis_prefix,
        "MASK_CLICK_DRAIN_SECONDS": "120",
    }
    journals = [tmp_path / "host-a" / "clicks", tmp_path / "host-b" / "clicks"]  # each host its own disk
    hosts = [
        MaskServer(shared | {"MASK_CLICK_JOURNAL_DIR": str(journal)}, log=tmp_path / f"host-{name}.log")
        for journal, name in zip(journals, "ab", strict=True)
    ]
    config = tmp_path / "Caddyfile"
    config.write_text(
        CADDYFILE.format(storage=tmp_path / "caddy", port=port, first=hosts[0].port, second=hosts[1].port)
    )
    caddy_env = os.environ | {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    for host in hosts:
        host.start()
    with open(tmp_path / "caddy.log", "wb") as log:
        proxy = subprocess.Popen(
            [caddy, "run", "--config", str(config), "--adapter", "caddyfile"],
            env=caddy_env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        import httpx

        def ready() -> bool:
            try:
                return httpx.get(f"http://{domain}/health", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for(ready)
        killed = False

        def on_progress(answered: int) -> None:
            nonlocal killed
            if not killed and answered >= STOP_AFTER:
                killed = True
                hosts[0].signal(signal.SIGKILL)  # host a's whole `mask serve`: workers and background process

        answered, failed, reasons = asyncio.run(_load(f"http://{domain}", on_progress))
        assert killed
        hosts[0].wait(30)
        hosts[0].start()  # restarted on its own journal: ships what it holds
        again = asyncio.run(_load(f"http://{domain}", lambda _answered: None))
        answered, failed, reasons = answered + again.answered, failed + again.failed, reasons + again.reasons
        _settle(url, answered, timeout=120)
    finally:
        proxy.terminate()
        proxy.wait(10)
        for host in hosts:
            host.stop()
    stored, counted = _count(url)
    assert answered >= REQUESTS, (answered, failed, reasons)  # the second round went through both hosts again
    assert answered <= stored <= answered + failed, (answered, stored, failed)
    assert counted == stored
    assert [_segments(journal) for journal in journals] == [[], []]


def test_a_worker_that_may_not_grow_its_journal_keeps_answering_and_counts_what_it_lost(
    sqlite_template: SqliteTemplate, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE on the running HTTP worker (as a full disk would): every write() fails with EFBIG."""
    import resource

    import httpx

    url = sqlite_template.clone()
    port = free_port()
    domain = f"127.0.0.1:{port}"
    _seed_links(url, domain)
    journal = tmp_path / "clicks"
    env = {
        "MASK_DATABASE_URL": url,
        "MASK_SHORT_DOMAIN": domain,
        "MASK_CLICK_JOURNAL_DIR": str(journal),
        "MASK_CLICK_DRAIN_SECONDS": "120",
    }
    server = MaskServer(env, workers=1, port=port, log=tmp_path / "server.log").start()  # serves in its own pid
    assert server.process is not None
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:

            def redirects(count: int) -> None:
                for i in range(count):
                    assert client.get(f"/load{i % 20}", headers={"User-Agent": "Mozilla/5.0"}).status_code == 302

            redirects(10)
            _soft, hard = resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE)
            resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (1, hard))  # the soft limit: undone below
            redirects(15)  # still answered
            clicks = client.get("/health").json()["clicks"]
            assert (clicks["written"], clicks["lost"]) == (10, 15)
            assert "File too large" in clicks["last_error"]
            resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (hard, hard))
            redirects(5)
            clicks = client.get("/health").json()["clicks"]
            assert (clicks["written"], clicks["lost"]) == (15, 15)
            # The failed writes (one byte of each got through) were cut back: no torn record was left behind.
            assert clicks["quarantined"] == {"corrupt": 0, "torn": 0}
        _settle(url, 15, timeout=120)
    finally:
        server.stop()
    assert _count(url) == (15, 15)
    assert _segments(journal) == []
    # (Its log line could not be written either: the limit holds for the log file too. tests/click/test_journal.py
    # checks that it is logged once, not per request.)
