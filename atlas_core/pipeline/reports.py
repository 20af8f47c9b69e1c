"""Charts that go with alerts, and the weekly channel reports.

    path = await store_spike_chart(svc, anomaly)   # "evidence/<video>/spike-<video>-<at>.png"
    run = await weekly_reports(svc, date(2026, 11, 16))  # reports/2026-W47/<channel>.png|md

A spike chart lives beside the video's other evidence (so forgetting the channel removes
it too) and is attached to the ``Views velocity anomaly`` alert by the outbox's drainer.
Drawing happens in a worker thread; matplotlib is imported only when something is drawn.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from atlas_core.analysis.charts import WINDOW, report_chart, spike_chart
from atlas_core.analysis.velocity import Anomaly
from atlas_core.notifications import Alert, AlertChannel, AlertLevel
from atlas_core.notifications.alert import escape_markdown
from atlas_core.pipeline.services import Services
from atlas_core.storage.evidence import evidence_prefix
from atlas_core.store import reports as store
from atlas_core.store.outbox import enqueue_alert
from atlas_core.utils import as_utc

logger = logging.getLogger(__name__)

PNG = "image/png"
MARKDOWN = "text/markdown; charset=utf-8"
REPORT_DAYS = 90
REPORTS = "reports"


def spike_chart_path(video_id: str, at: datetime) -> str:
    """``evidence/<video_id>/spike-<video_id>-YYYYmmddTHHMMSS.png`` (the file name alone,
    as attached and saved by the demo, names the video)."""
    return f"{evidence_prefix(video_id)}spike-{video_id}-{as_utc(at):%Y%m%dT%H%M%S}.png"


async def store_spike_chart(svc: Services, anomaly: Anomaly, factor: float = 3.0) -> str | None:
    """Draw the anomaly's chart and store it in the vault; its path, or None (logged) when it
    could not be drawn or stored: the alert goes out without a chart rather than not at all."""
    at = as_utc(anomaly.at)
    try:
        path = spike_chart_path(anomaly.video_id, at)
        async with svc.db.get_connection() as conn:
            owner = await store.video_channel(conn, anomaly.video_id)
            points = await store.video_view_points(conn, anomaly.video_id, at - WINDOW, at)
            channel = None
            if anomaly.channel_confirmed and owner is not None:
                rows = await store.channel_series(conn, owner[0], at - WINDOW, at)
                channel = [(p.at, p.views) for p in rows if p.views is not None]
        title = f"{anomaly.video_id} · {owner[1]}" if owner else anomaly.video_id
        chart = await asyncio.to_thread(
            spike_chart,
            points,
            at=at,
            rate=anomaly.rate,
            baseline=anomaly.previous_rate,
            factor=factor,
            title=title[:60],
            channel_points=channel,
        )
        await asyncio.to_thread(svc.vault.store_bytes, path, chart.png, PNG)
    except Exception:
        logger.exception("spike chart of %s at %s could not be made", anomaly.video_id, at)
        return None
    return path


# --- weekly channel reports ---------------------------------------------------------------


@dataclass(frozen=True)
class ChannelWeek:
    channel_id: str
    title: str
    subscribers: tuple[int | None, int | None]  # at the week's start, at its end
    views: tuple[int | None, int | None]
    uploads: int  # in the week
    markdown: str
    png_path: str
    md_path: str

    @property
    def gained_views(self) -> int:
        start, end = self.views
        return (end or 0) - (start or 0) if end is not None else 0

    @property
    def gained_subscribers(self) -> int:
        start, end = self.subscribers
        return (end or 0) - (start or 0) if end is not None else 0


@dataclass(frozen=True)
class WeeklyRun:
    week: str  # ISO week, "2026-W47"
    channels: list[ChannelWeek] = field(default_factory=list)
    digest: str = ""
    alerted: bool = False


def report_base(label: str, channel_id: str) -> str:
    """``reports/<week>/<channel_id>`` (add ``.png`` or ``.md``); the id is checked like a
    video id (letters, digits, ``_`` and ``-``), so it cannot leave its folder."""
    evidence_prefix(channel_id)  # raises ValueError naming a bad id
    return f"{REPORTS}/{label}/{channel_id}"


def week_label(week_start: date) -> str:
    year, number, _ = week_start.isocalendar()
    return f"{year}-W{number:02d}"


async def weekly_reports(svc: Services, week_start: date, movers: int = 3) -> WeeklyRun:
    """Per watched channel, ``reports/<week>/<channel>.png`` (subscribers, views and uploads
    over the ``REPORT_DAYS`` before the week's end) and ``.md`` (growth, top videos, alerts
    of the week); then one SURVEILLANCE digest of the biggest movers, through the outbox
    (once per week). Re-running a week rewrites the same files."""
    start = datetime.combine(week_start, time(), UTC)
    end = start + timedelta(days=7)
    label = week_label(week_start)
    async with svc.db.get_connection() as conn:
        channels = await store.watched_channels(conn)
    weeks = [await _channel_week(svc, cid, title, start, end, label) for cid, title in channels]
    digest = _digest(label, weeks, movers)
    alerted = False
    if weeks:
        async with svc.db.get_connection() as conn:
            alerted = await enqueue_alert(
                conn,
                Alert(
                    key=f"report.weekly:{label}",
                    channel=AlertChannel.SURVEILLANCE,
                    level=AlertLevel.INFO,
                    title=f"Weekly report {label}",
                    description=digest,
                    fields={"week": label, "reports": f"{REPORTS}/{label}/"},
                ),
            )
    return WeeklyRun(label, weeks, digest, alerted)


async def _channel_week(
    svc: Services, channel_id: str, title: str, start: datetime, end: datetime, label: str
) -> ChannelWeek:
    since = end - timedelta(days=REPORT_DAYS)
    async with svc.db.get_connection() as conn:
        series = await store.channel_series(
            conn, channel_id, since, end - timedelta(microseconds=1)
        )
        uploads = await store.uploads_between(conn, channel_id, since, end)
        top = await store.top_videos(conn, channel_id, start, end)
        video_ids = await store.channel_video_ids(conn, channel_id)
        alerts = await store.week_alerts(conn, channel_id, video_ids, start, end)
    points = [(p.at, p.subscribers, p.views) for p in series if p.at >= since]
    chart = await asyncio.to_thread(
        report_chart,
        points,
        uploads,
        end=end,
        title=f"{title[:40]} · {label}",
        days_shown=REPORT_DAYS,
    )
    before = [p for p in series if p.at < start]
    first = before[-1] if before else next((p for p in series if p.at >= start), None)
    last = series[-1] if series else None
    subscribers = (first.subscribers if first else None, last.subscribers if last else None)
    views = (first.views if first else None, last.views if last else None)
    week_uploads = sum(1 for t in uploads if t >= start)
    base = report_base(label, channel_id)
    markdown = _markdown(title, channel_id, label, subscribers, views, week_uploads, top, alerts)
    await asyncio.to_thread(svc.vault.store_bytes, f"{base}.png", chart.png, PNG)
    await asyncio.to_thread(svc.vault.store_bytes, f"{base}.md", markdown.encode(), MARKDOWN)
    return ChannelWeek(
        channel_id,
        title,
        subscribers,
        views,
        week_uploads,
        markdown,
        f"{base}.png",
        f"{base}.md",
    )


def _change(pair: tuple[int | None, int | None]) -> str:
    start, end = pair
    if end is None:
        return "no data"
    if start is None or start == end:
        return f"{end:,}" + ("" if start is None else " (no change)")
    delta = end - start
    pct = f", {delta / start:+.2%}" if start else ""
    return f"{end:,} ({delta:+,}{pct})"


def _markdown(
    title: str,
    channel_id: str,
    label: str,
    subscribers: tuple[int | None, int | None],
    views: tuple[int | None, int | None],
    uploads: int,
    top: list[store.TopVideo],
    alerts: list[store.WeekAlert],
) -> str:
    lines = [
        f"# {title} — week {label}",
        "",
        f"Channel `{channel_id}`. Chart: `{channel_id}.png` (last {REPORT_DAYS} days).",
        "",
        "## Growth",
        "",
        f"- Subscribers: {_change(subscribers)}",
        f"- Views: {_change(views)}",
        f"- Uploads this week: {uploads}",
        "",
        "## Top videos of the week",
        "",
    ]
    lines += [f"1. `{v.video_id}` {v.title} — +{v.gained:,} views ({v.views:,})" for v in top] or [
        "No video statistics this week."
    ]
    lines += ["", "## Alerts of the week", ""]
    lines += [f"- {a.created_at:%Y-%m-%d %H:%M} UTC — {a.title}: {a.description}" for a in alerts]
    if not alerts:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _digest(label: str, weeks: list[ChannelWeek], movers: int) -> str:
    ranked = sorted(weeks, key=lambda w: (-w.gained_views, w.channel_id))[:movers]
    if not ranked:
        return f"No watched channel had statistics in {label}."
    lines = [f"Biggest movers of {label} (views gained):"]
    for n, w in enumerate(ranked, 1):
        lines.append(
            f"{n}. **{escape_markdown(w.title)}** (`{w.channel_id}`): {w.gained_views:+,} views, "
            f"{w.gained_subscribers:+,} subscribers, {w.uploads} upload(s)"
        )
    lines.append(f"Reports: `{REPORTS}/{label}/`")
    return "\n".join(lines)
