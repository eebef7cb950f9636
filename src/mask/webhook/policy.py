"""How deliveries are retried, when an endpoint is given up on, and how much runs at once.

The defaults are the documented behaviour (README, "Webhooks"); tests shrink the times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

# Delay before each retry: roughly exponential, capped at 8 hours, 10 attempts spread over about a day.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=8),
)


@dataclass(frozen=True)
class DeliveryPolicy:
    retry_delays: tuple[timedelta, ...] = RETRY_DELAYS
    jitter: float = 0.2  # each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]
    timeout: float = 10.0  # seconds for one attempt, connection to last byte read
    # An endpoint is disabled when at least this many attempts in a row failed over at least this long.
    disable_after_failures: int = 10
    disable_after: timedelta = timedelta(hours=24)
    max_in_flight: int = 64  # attempts running at once in this process
    max_in_flight_per_endpoint: int = 8  # … of which at most this many to one endpoint
    # Deliveries claimed ahead, as a multiple of those limits, so that the next attempt to an endpoint starts
    # the moment one ends instead of after a database round trip. Leases cover the wait.
    prefetch: int = 2
    lease: timedelta = timedelta(seconds=60)  # a claimed delivery comes due again after this if never reported
    poll_interval: float = 0.5  # seconds between looks for new events and due retries when nothing wakes us
    fan_out_batch: int = 500  # events turned into deliveries per transaction
    response_excerpt_bytes: int = 1024
    retention: timedelta = timedelta(days=30)  # finished deliveries and dispatched events are kept this long
    prune_interval: float = 3600.0
    shutdown_grace: float = 10.0  # seconds in-flight attempts may finish when the process stops
    user_agent: str = "MASK-Webhooks/1.0"

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays) + 1

    def retry_delay(self, attempts_made: int) -> timedelta | None:
        """The wait after the `attempts_made`-th failed attempt, jittered; None when retries are used up."""
        if attempts_made < 1 or attempts_made > len(self.retry_delays):
            return None
        base = self.retry_delays[attempts_made - 1]
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)
