"""Views-velocity anomalies from ``video_stats_log``.

    async with db.get_connection() as conn:
        spikes = await velocity_anomalies(conn, factor=3.0, min_views_per_hour=100)

For each video, the views per hour between its last two snapshots is compared with the rate
between the two before; a rate ``factor`` times the earlier one (and at least
``min_views_per_hour``) is an anomaly.

A video is not judged (no baseline yet) when its snapshots' ticks disagree with the order in
which they were observed (an unscheduled run, such as a channel's first discovery, stamped
after a scheduled tick whose response came later), or when the earlier interval is under a
quarter of the latest one: a baseline that short says little, and rounding alone can make it
look like nothing happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection


@dataclass(frozen=True)
class Anomaly:
    video_id: str
    at: datetime
    rate: float
    previous_rate: float

    @property
    def ratio(self) -> float:
        return self.rate / self.previous_rate if self.previous_rate > 0 else float("inf")


async def velocity_anomalies(
    conn: AsyncConnection, factor: float = 3.0, min_views_per_hour: float = 100.0
) -> list[Anomaly]:
    # Each tracked video's last three snapshots, read through the (video_id, timestamp) key.
    cur = await conn.execute(
        """WITH last3 AS (
               SELECT v.id AS video_id,
                      max(s.timestamp) FILTER (WHERE s.n = 1) AS t1,
                      max(s.views) FILTER (WHERE s.n = 1) AS v1,
                      max(s.timestamp) FILTER (WHERE s.n = 2) AS t2,
                      max(s.views) FILTER (WHERE s.n = 2) AS v2,
                      max(s.timestamp) FILTER (WHERE s.n = 3) AS t3,
                      max(s.views) FILTER (WHERE s.n = 3) AS v3,
                      max(s.observed_at) FILTER (WHERE s.n = 1) AS o1,
                      max(s.observed_at) FILTER (WHERE s.n = 2) AS o2,
                      max(s.observed_at) FILTER (WHERE s.n = 3) AS o3
               FROM videos v
               JOIN watchlist w ON w.channel_id = v.channel_id
               CROSS JOIN LATERAL (
                   SELECT timestamp, views, observed_at,
                          row_number() OVER (ORDER BY timestamp DESC) AS n
                   FROM (SELECT timestamp, views, observed_at FROM video_stats_log
                         WHERE video_id = v.id AND views IS NOT NULL
                         ORDER BY timestamp DESC LIMIT 3) recent
               ) s
               GROUP BY v.id)
           SELECT video_id, t1,
                  (v1 - v2) / (extract(epoch FROM t1 - t2) / 3600.0) AS rate,
                  (v2 - v3) / (extract(epoch FROM t2 - t3) / 3600.0) AS previous
           FROM last3
           WHERE t3 IS NOT NULL AND t1 > t2 AND t2 > t3
             AND o1 >= o2 AND o2 >= o3
             AND (t2 - t3) * 4 >= (t1 - t2)""",
    )
    found = []
    for video_id, at, rate, previous in await cur.fetchall():
        rate, previous = float(rate), max(float(previous), 0.0)
        if rate >= min_views_per_hour and rate >= factor * max(previous, 1.0):
            found.append(Anomaly(video_id, at, rate, previous))
    return sorted(found, key=lambda a: a.rate, reverse=True)
