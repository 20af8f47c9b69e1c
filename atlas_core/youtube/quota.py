"""The key pool and the quota ledger: which key to use, and what each key spent today.

    ledger = QuotaLedger(db)
    pool = KeyPool(settings.api_keys, ledger, clock=clock)
    index, key = await pool.current()             # raises QuotaExhausted when every key is spent
    held = await pool.reserve(index, "videos.list")   # in the ledger BEFORE the request goes out
    ...                                           # send it
    pool.refund(held)                             # it never reached the API / was not charged
    await pool.flush()                            # refunds reach the ledger (per batch, at the end)

The ledger is write-ahead: a call's units are written before it is sent and given back only
when the answer shows YouTube did not charge it, so a process killed at any moment leaves the
ledger at or above what YouTube charged (equal once its refunds are flushed). Quota is counted
per key per Pacific-time day (YouTube resets at midnight America/Los_Angeles) in
``youtube_quota_ledger`` (SQL in :mod:`atlas_core.store.quota`), incremented with UPSERTs so
every process shares one tally. A key is known by its index and a sha256 fingerprint only.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection

from atlas_core.database import DatabaseManager
from atlas_core.store.quota import add_units, exhausted_keys, units_by_key, units_on
from atlas_core.utils import utc_now
from atlas_core.youtube.errors import QuotaExhausted, YouTubeConfigError

PACIFIC = ZoneInfo("America/Los_Angeles")

# Documented costs (https://developers.google.com/youtube/v3/determine_quota_cost).
METHOD_COSTS: dict[str, int] = {
    "channels.list": 1,
    "videos.list": 1,
    "playlistItems.list": 1,
    "playlists.list": 1,
    "search.list": 100,
}

Clock = Callable[[], datetime]


def quota_day(moment: datetime) -> date:
    """The Pacific-time day a moment falls in (the day YouTube's quota counts)."""
    return moment.astimezone(PACIFIC).date()


def next_reset(moment: datetime) -> datetime:
    """The next Pacific midnight after ``moment``, as an aware UTC datetime."""
    tomorrow = quota_day(moment) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC).astimezone(UTC)


def fingerprint(key: str) -> str:
    """First 12 hex digits of sha256(key): enough to tell keys apart, useless to a thief."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


class QuotaLedger:
    """Reads and increments ``youtube_quota_ledger``."""

    def __init__(self, db: DatabaseManager) -> None:
        self._db = db

    async def charge(
        self,
        day: date,
        key_index: int,
        key_fp: str,
        units: int,
        *,
        exhausted: bool = False,
        calls: int | None = None,
        wait_for_disk: bool = True,
    ) -> bool:
        """Add ``units`` and ``calls`` (default: one call if any units; negative values
        refund) for a key; return True if the key is marked exhausted. A write that loses its
        connection (the server restarted) is retried on a fresh one."""
        counted = calls if calls is not None else (1 if units else 0)

        async def write(conn: AsyncConnection) -> bool:
            return await add_units(
                conn,
                day,
                key_index,
                key_fp,
                units,
                calls=counted,
                exhausted=exhausted,
                wait_for_disk=wait_for_disk,
            )

        return await self._db.in_transaction(write)

    async def exhausted(self, day: date) -> set[str]:
        """Fingerprints of the keys marked exhausted on ``day``."""
        async with self._db.get_connection() as conn:
            return await exhausted_keys(conn, day)

    async def units(self, day: date) -> int:
        """Units spent on ``day`` by every key."""
        async with self._db.get_connection() as conn:
            return await units_on(conn, day)

    async def by_key(self, day: date) -> dict[int, int]:
        """Units spent on ``day``, per key index."""
        async with self._db.get_connection() as conn:
            return await units_by_key(conn, day)


@dataclass(frozen=True)
class Reservation:
    """Units written to the ledger for one request before it was sent."""

    day: date
    index: int
    units: int


class KeyPool:
    """The usable API keys, in order; a key spent for the day is skipped until Pacific midnight.

    In compliance mode ``settings.api_keys`` holds one key, so there is nothing to rotate to.
    """

    def __init__(
        self,
        keys: list[str],
        ledger: QuotaLedger,
        *,
        clock: Clock = utc_now,
        compliance_mode: bool = True,
    ) -> None:
        self._keys = list(keys)
        self._fps = [fingerprint(k) for k in keys]
        self._ledger = ledger
        self._clock = clock
        self._compliance = compliance_mode
        self._spent: set[int] = set()
        self._day: date | None = None
        self._lock = asyncio.Lock()
        self._flush_lock = asyncio.Lock()
        self._pending: dict[tuple[date, int], list[int]] = {}  # refunds: [units, calls] <= 0

    def __repr__(self) -> str:
        return f"<KeyPool keys={len(self._keys)} spent={sorted(self._spent)}>"

    def __len__(self) -> int:
        return len(self._keys)

    async def _refresh_day(self) -> date:
        today = quota_day(self._clock())
        if self._day != today:
            async with self._lock:
                if self._day != today:
                    marked = await self._ledger.exhausted(today)
                    self._spent = {i for i, fp in enumerate(self._fps) if fp in marked}
                    self._day = today
        return today

    async def current(self) -> tuple[int, str]:
        """(index, key) of the first key with quota left today; QuotaExhausted when none."""
        if not self._keys:
            raise YouTubeConfigError(
                "no YouTube API key configured: set YOUTUBE_API_KEY_POOL_JSON to a JSON list "
                'such as ["AIza..."]'
            )
        await self._refresh_day()
        for index, key in enumerate(self._keys):
            if index not in self._spent:
                return index, key
        raise self._exhausted_error()

    async def reserve(self, index: int, method: str) -> Reservation:
        """Write one call of ``method`` on key ``index`` to the ledger at its documented cost,
        before the request is sent. Raises if the ledger cannot be written (the request must
        then not be sent: quota nobody counted is quota overspent)."""
        units = METHOD_COSTS[method]
        held = Reservation(quota_day(self._clock()), index, units)
        write = asyncio.ensure_future(
            # Written to the server before the request goes out; not waiting on the disk
            # flush (a killed client loses nothing the server has; a write per API call).
            self._ledger.charge(
                held.day, index, self._fps[index], units, calls=1, wait_for_disk=False
            )
        )
        try:
            exhausted = await asyncio.shield(write)
        except asyncio.CancelledError:
            # Cancelled while writing: let the write finish, then give it back (nothing sent).
            try:
                await write
            except Exception:
                raise asyncio.CancelledError from None
            self.refund(held)
            raise
        if exhausted and held.day == self._day:
            self._spent.add(index)  # another process found this key exhausted
        return held

    def refund(self, held: Reservation) -> None:
        """The reserved call was not charged by YouTube (it never reached it, or YouTube
        refused it before doing work): give its units back, in memory (synchronous: it cannot
        fail or be cancelled); :meth:`flush` writes the refund."""
        tally = self._pending.setdefault((held.day, held.index), [0, 0])
        tally[0] -= held.units
        tally[1] -= 1

    @property
    def unflushed_units(self) -> int:
        """Units refunded in memory, not yet written to the ledger (a positive number)."""
        return -sum(units for units, _ in self._pending.values())

    async def flush(self) -> None:
        """Write the refunds to the ledger (one UPSERT per key and day). What cannot be
        written stays counted for the next flush."""
        async with self._flush_lock:
            pending, self._pending = self._pending, {}
            try:
                while pending:
                    (day, index), (units, calls) = next(iter(pending.items()))
                    if units or calls:
                        await self._ledger.charge(day, index, self._fps[index], units, calls=calls)
                    del pending[(day, index)]
            finally:
                for (day, index), (units, calls) in pending.items():  # keep what failed
                    tally = self._pending.setdefault((day, index), [0, 0])
                    tally[0] += units
                    tally[1] += calls

    async def mark_spent(self, index: int) -> None:
        """YouTube said key ``index`` is out of quota: skip it (here and in every process)."""
        today = await self._refresh_day()
        self._spent.add(index)
        await self._ledger.charge(today, index, self._fps[index], 0, exhausted=True)

    def _exhausted_error(self) -> QuotaExhausted:
        now = self._clock()
        resets = next_reset(now)
        wait = resets - now.astimezone(UTC)
        hours, rest = divmod(int(wait.total_seconds()), 3600)
        local = resets.astimezone(PACIFIC)
        which = (
            "API key #0 has"
            if len(self._keys) == 1
            else f"all {len(self._keys)} API keys (#0-#{len(self._keys) - 1}) have"
        )
        hint = " COMPLIANCE_MODE is on, so only the first key is used." if self._compliance else ""
        return QuotaExhausted(
            f"YouTube quota exhausted: {which} spent today's quota (Pacific day "
            f"{quota_day(now).isoformat()}). It resets at {resets:%Y-%m-%d %H:%M} UTC "
            f"({local:%Y-%m-%d %H:%M %Z}, midnight America/Los_Angeles), in {hours}h"
            f"{rest // 60:02d}m.{hint} Wait for the reset or raise the project's quota.",
            resets_at=resets,
        )
