"""Scan the stats logs for velocity anomalies and alert SURVEILLANCE once per anomaly.

scan = await scan_anomalies(svc, factor=3.0, min_views_per_hour=100)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from atlas_core.analysis.velocity import Anomaly, velocity_anomalies
from atlas_core.notifications import AlertChannel, AlertLevel
from atlas_core.pipeline.services import Services


@dataclass(frozen=True)
class AnomalyScan:
    anomalies: list[Anomaly] = field(default_factory=list)
    alerted: list[Anomaly] = field(default_factory=list)


async def scan_anomalies(
    svc: Services, factor: float = 3.0, min_views_per_hour: float = 100.0
) -> AnomalyScan:
    async with svc.db.get_connection() as conn:
        found = await velocity_anomalies(conn, factor, min_views_per_hour)
    # One alert per (video, snapshot): the event's entity is "video@timestamp".
    keys = {f"{a.video_id}@{a.at:%Y%m%dT%H%M%S}"[:50]: a for a in found}
    new = await svc.record_once(
        "video.velocity_anomaly",
        {
            key: {"video_id": a.video_id, "rate": a.rate, "previous": a.previous_rate}
            for key, a in keys.items()
        },
    )
    fresh = {key: keys[key] for key in new}
    for anomaly in fresh.values():
        ratio = "new" if anomaly.previous_rate == 0 else f"x{anomaly.ratio:.1f}"
        await svc.notifier.send(
            "Views velocity anomaly",
            f"Video `{anomaly.video_id}` gains {anomaly.rate:,.0f} views/hour ({ratio}).",
            channel=AlertChannel.SURVEILLANCE,
            level=AlertLevel.WARNING,
            fields={
                "video_id": anomaly.video_id,
                "views_per_hour": f"{anomaly.rate:,.0f}",
                "previous_per_hour": f"{anomaly.previous_rate:,.0f}",
                "at": anomaly.at.isoformat() + "Z",
            },
        )
    return AnomalyScan(anomalies=found, alerted=list(fresh.values()))
