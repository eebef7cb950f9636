"""The background process `mask serve` runs beside its HTTP workers: `mask worker`, started, watched and
stopped by the serving command itself, so that `mask serve` alone is a complete MASK.

Why a process of its own: storing a click (enrichment, counters, analytics rollups, webhook events) costs
tens of times what answering its redirect does. Inside the HTTP workers that work took the same event loop
and the same CPU as the redirects (issue 3 measured 29 % of redirect throughput and a p99 of 138 ms on two
cores). Here it runs at a lower CPU priority (MASK_SERVE_BACKGROUND_NICE): when a burst saturates the
machine, redirects get the CPU first and clicks wait, durably, in the click journal, to be
stored as soon as there is room. One process, whatever --workers says: one webhook dispatcher, one writer.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

logger = logging.getLogger("mask")

RESTART_PAUSE = 1.0  # seconds before a background process that died is started again
STOP_TIMEOUT = 60.0  # seconds it may take to finish its batch in hand on SIGTERM


class BackgroundProcess:
    def __init__(self, *, nice: int) -> None:
        self.nice = nice
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="mask-background-watch", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        command = [sys.executable, "-m", "mask", "worker", "--nice", str(self.nice), "--parent-pid", str(os.getpid())]
        self.process = subprocess.Popen(command)  # noqa: S603 (our own interpreter and arguments)

    def _watch(self) -> None:
        """Start the process again if it dies (a crash, an out-of-memory kill) while `mask serve` runs."""
        while True:
            process = self.process
            assert process is not None
            code = process.wait()
            with self._lock:
                if self._stopping:
                    return
            logger.error("the background process exited with %s; starting it again in %.0f s", code, RESTART_PAUSE)
            time.sleep(RESTART_PAUSE)
            with self._lock:
                if self._stopping:
                    return
                self._spawn()

    def stop(self) -> None:
        """SIGTERM, and wait for it to finish the batch in hand (what it has not taken stays queued)."""
        with self._lock:
            self._stopping = True
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            logger.error("the background process did not stop in %.0f s; killed", STOP_TIMEOUT)
            process.kill()
            process.wait()
