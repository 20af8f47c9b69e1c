"""Scan the stats logs for velocity anomalies and alert SURVEILLANCE once per spike.

scan = await scan_anomalies(svc, factor=3.0, min_views_per_hour=100)

Two rules: the two-interval rule (``velocity_anomalies``) and, for videos of channels whose
views jumped in the last tick, the channel-confirmed rule (``channel_confirmed_spikes``),
which catches a spike on its first snapshot instead of the second. A video alerted within
``EPISODE`` before is the same spike still under way and is not alerted again. Every spike
found is kept in ``velocity_anomalies`` (with whether it alerted): the asset's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from atlas_core.analysis.velocity import Anomaly, channel_confirmed_spikes, velocity_anomalies
from atlas_core.notifications import Alert, AlertChannel, AlertLevel
from atlas_core.pipeline.reports import store_spike_chart
from atlas_core.pipeline.services import Services
from atlas_core.store.outbox import enqueue_alert
from atlas_core.store.planning import channel_view_history
from atlas_core.store.signals import FoundSpike, alerted_at, mark_alert_subject, record_spikes
from atlas_core.utils import as_utc

SCAN_WINDOW = timedelta(hours=3)  # a missed tick or two is still scanned by the next
EPISODE = timedelta(hours=3)  # one spike, one alert: later anomalies this close are the same
_KEY = "video.velocity_anomaly:"


@dataclass(frozen=True)
class AnomalyScan:
    anomalies: list[Anomaly] = field(default_factory=list)
    alerted: list[Anomaly] = field(default_factory=list)


async def scan_anomalies(
    svc: Services,
    factor: float = 3.0,
    min_views_per_hour: float = 100.0,
    window: timedelta | None = SCAN_WINDOW,
) -> AnomalyScan:
    """Anomalies of the videos snapshotted within ``window`` before the run's tick (None:
    every tracked video); older snapshots were scanned by the ticks that wrote them."""
    since = svc.clock() - window if window is not None else None
    async with svc.db.get_connection() as conn:
        found = await velocity_anomalies(conn, factor, min_views_per_hour, since=since)
        if since is not None:
            history = await channel_view_history(conn)
            seen = {a.video_id for a in found}
            found += [
                a
                for a in await channel_confirmed_spikes(
                    conn, history, since, factor, min_views_per_hour
                )
                if a.video_id not in seen
            ]
        earlier = await alerted_at(conn, _KEY, sorted({a.video_id for a in found}))
    spotted, found = (
        found,
        [
            a
            for a in found
            if not any(a.at - EPISODE <= t < a.at for t in earlier.get(a.video_id, ()))
        ],
    )
    # One alert per (video, snapshot): the outbox key and the event's entity "video@timestamp".
    keys = {f"{a.video_id}@{a.at:%Y%m%dT%H%M%S}"[:50]: a for a in found}
    charts = {k: await store_spike_chart(svc, a, factor) for k, a in keys.items()}  # evidence/
    fresh: dict[str, Anomaly] = {}
    async with svc.db.get_connection() as conn:
        for key, anomaly in keys.items():
            if await enqueue_alert(conn, anomaly_alert(key, anomaly, charts[key])):
                await mark_alert_subject(conn, f"{_KEY}{key}", anomaly.video_id, anomaly.at)
                fresh[key] = anomaly
        alerted = {(a.video_id, a.at) for a in fresh.values()}
        await record_spikes(  # every spike seen, the ones inside an earlier episode too
            conn,
            [
                FoundSpike(
                    a.video_id,
                    a.at,
                    a.rate,
                    a.previous_rate,
                    a.channel_confirmed,
                    (a.video_id, a.at) in alerted,
                )
                for a in spotted
            ],
        )
    for key, anomaly in fresh.items():
        await svc.events.emit(
            "video.velocity_anomaly",
            key,
            {"video_id": anomaly.video_id, "rate": anomaly.rate, "previous": anomaly.previous_rate},
        )
    return AnomalyScan(anomalies=found, alerted=list(fresh.values()))


def anomaly_alert(key: str, anomaly: Anomaly, chart: str | None = None) -> Alert:
    ratio = "new" if anomaly.previous_rate == 0 else f"x{anomaly.ratio:.1f}"
    return Alert(
        key=f"{_KEY}{key}",
        channel=AlertChannel.SURVEILLANCE,
        level=AlertLevel.WARNING,
        title="Views velocity anomaly",
        description=f"Video `{anomaly.video_id}` gains {anomaly.rate:,.0f} views/hour ({ratio}).",
        fields={
            "video_id": anomaly.video_id,
            "views_per_hour": f"{anomaly.rate:,.0f}",
            "previous_per_hour": f"{anomaly.previous_rate:,.0f}",
            "at": f"{as_utc(anomaly.at):%Y-%m-%dT%H:%M:%SZ}",
            **({"chart": chart} if chart else {}),
        },
        image_path=chart,
    )
