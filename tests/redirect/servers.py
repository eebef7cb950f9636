"""Real `mask serve` processes for tests and the bench: free port, own database, signals, readiness."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

import httpx

MASK = str(Path(sys.executable).with_name("mask"))


def children(parent: int) -> dict[int, str]:
    """pid → command line of every process whose parent is `parent` (Linux: /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found[int(entry.name)] = command
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MaskServer:
    """`mask serve` in its own process group (so SIGKILL takes its workers down with it, like a crash)."""

    def __init__(
        self, env: dict[str, str], *, workers: int = 1, port: int | None = None, log: Path | None = None
    ) -> None:
        self.port = port or free_port()
        self.workers = workers
        self.env = {**os.environ, "MASK_ENV": "test", "MASK_LOG_LEVEL": "warning", **env}
        if "MASK_CLICK_JOURNAL_DIR" not in env:
            # A journal of this server's own, kept across its restarts. The default on PostgreSQL is ./var/clicks,
            # which every server started from the repository would share: one server's background process would
            # ship another's clicks into its own database.
            journal = tempfile.mkdtemp(prefix="mask-test-journal-")
            weakref.finalize(self, shutil.rmtree, journal, True)
            self.env["MASK_CLICK_JOURNAL_DIR"] = journal
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> MaskServer:  # a hang guard: a busy machine starts slowly
        output = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [MASK, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mask serve exited with {self.process.returncode} (log: {self.log})")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    time.sleep(0.3 if self.workers > 1 else 0)  # let every worker finish its startup
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"mask serve did not become ready in {timeout} s (log: {self.log})")

    def http_workers(self) -> list[int]:
        """The pids of the uvicorn workers (not the background process)."""
        assert self.process is not None
        return [pid for pid, command in children(self.process.pid).items() if "spawn_main" in command]

    def background(self) -> list[int]:
        assert self.process is not None
        return [pid for pid, command in children(self.process.pid).items() if " -m mask worker " in command]

    def signal(self, signum: int) -> None:
        assert self.process is not None
        if signum == signal.SIGKILL:
            os.killpg(self.process.pid, signal.SIGKILL)  # the whole group: supervisor and workers
        else:
            self.process.send_signal(signum)  # the supervisor forwards it to its workers

    def wait(self, timeout: float = 120.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
