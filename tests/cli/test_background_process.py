"""`mask serve` runs its background services in one `mask worker` process of its own, at a lower CPU
priority, started again if it dies and gone when `mask serve` is."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.backends import SqliteTemplate
from tests.redirect.servers import MaskServer

# The helpers below find `mask serve`'s children in /proc.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux only)"),
]


def _children(parent: int) -> dict[int, str]:
    """pid → command line of every process whose parent is `parent`."""
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


def _background(server: MaskServer) -> list[int]:
    assert server.process is not None
    return [pid for pid, command in _children(server.process.pid).items() if " -m mask worker " in command]


def _wait_for(condition: object, timeout: float = 15.0) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def env(sqlite_template: SqliteTemplate, tmp_path: Path) -> dict[str, str]:
    return {"MASK_DATABASE_URL": sqlite_template.clone(), "MASK_CLICK_SPILL_DIR": str(tmp_path / "spill")}


def test_one_background_process_at_lower_priority_restarted_when_it_dies(env: dict[str, str]) -> None:
    server = MaskServer(env | {"MASK_SERVE_BACKGROUND_NICE": "7"}, workers=2).start()
    try:
        assert _wait_for(lambda: len(_background(server)) == 1)
        [first] = _background(server)
        # (it lowers its own priority first thing, once the interpreter is up)
        assert _wait_for(lambda: os.getpriority(os.PRIO_PROCESS, first) - os.getpriority(os.PRIO_PROCESS, 0) == 7)
        os.kill(first, signal.SIGKILL)  # a crash, an out-of-memory kill
        assert _wait_for(lambda: len(_background(server)) == 1 and _background(server) != [first])
    finally:
        server.stop()
    assert server.process is not None and server.process.returncode == 0


def test_the_background_process_goes_when_mask_serve_is_killed(env: dict[str, str]) -> None:
    server = MaskServer(env, workers=1).start()
    try:
        assert _wait_for(lambda: len(_background(server)) == 1)
        [background] = _background(server)
        assert server.process is not None
        server.process.kill()  # mask serve alone, not its process group: nobody tells the worker
        server.process.wait(10)

        def gone() -> bool:
            try:
                os.kill(background, 0)
            except ProcessLookupError:
                return True
            return Path(f"/proc/{background}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"

        assert _wait_for(gone, timeout=10)
    finally:
        server.kill()


def test_no_background_process_when_mask_worker_runs_them(env: dict[str, str]) -> None:
    server = MaskServer(env | {"MASK_SERVE_BACKGROUND": "false"}, workers=1).start()
    try:
        time.sleep(1.0)
        assert _background(server) == []
    finally:
        server.stop()
