"""A per-webhook rate limiter: a sliding window of booked slots plus server-imposed pauses.

limiter = WebhookLimiter(5, 2.0)        # at most 5 posts in any 2 seconds
wait = limiter.reserve(now, max_wait=15.0)   # seconds to sleep first, None = too long
limiter.pause(now, 1.5)                 # Discord said: nothing for 1.5s (429, headers)
"""

from __future__ import annotations

from collections import deque


class WebhookLimiter:
    """Sliding window: at most ``burst`` posts in any ``per`` seconds, plus server pauses.

    ``reserve`` books the next free slot synchronously, so concurrent senders on one event
    loop queue up without a lock (and nothing here is bound to a loop).
    """

    def __init__(self, burst: int, per: float) -> None:
        self._per = per
        self._slots: deque[float] = deque(maxlen=burst)
        self.paused_until = 0.0

    def reserve(self, now: float, max_wait: float) -> float | None:
        """Seconds to wait before posting, or None if that would exceed ``max_wait``."""
        slot = max(now, self.paused_until)
        if self._slots:
            slot = max(slot, self._slots[-1])
            if len(self._slots) == self._slots.maxlen:
                slot = max(slot, self._slots[0] + self._per)
        if slot - now > max_wait:
            return None
        self._slots.append(slot)
        return slot - now

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)
