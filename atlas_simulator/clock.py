"""A clock you move by hand, for tests, benchmarks and replaying a day of the simulator.

clock = ManualClock(datetime(2026, 1, 7, 12, tzinfo=UTC))
sim = SimulatorServer(seed=1, clock=clock)
clock.advance(hours=6)          # every scheduled happening has now happened
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# YouTube's quota day starts at midnight Pacific time.
PACIFIC = ZoneInfo("America/Los_Angeles")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """Callable returning an aware datetime that only changes when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 7, 12, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime, e.g. datetime(..., tzinfo=UTC)")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``; return the new time."""
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(UTC)
