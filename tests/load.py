"""Real CPU load for tests of what background work does while a machine is busy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# What CpuGate reads; on Linux (CI included) it is always there and these tests always run.
needs_proc_stat = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc/stat (Linux only)")


@contextmanager
def every_cpu_busy() -> Iterator[None]:
    """One busy loop per CPU, each in a process of its own, until the block ends."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    time.sleep(0.3)  # running, not starting
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
