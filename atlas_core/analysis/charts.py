"""Small PNG charts for alerts and reports, drawn with matplotlib's Agg canvas.

    chart = spike_chart(video_points, at=spike.at, rate=spike.rate, baseline=spike.previous_rate,
                        title="Video dQw4w9WgXcQ", channel_points=channel_points)
    chart.png          # bytes, WIDTH x height pixels, under 100 KB
    chart.video.rates  # the views per hour it plotted (the spike is chart.spike)

matplotlib is imported inside the drawing functions only, so a step that never draws never
imports it. Output is deterministic: a fixed size and DPI, matplotlib's bundled DejaVu Sans,
no text antialiasing differences between runs, and no timestamp or software tag in the PNG.
Times are plotted as hours relative to the chart's reference time (the spike, the week's
end), so no time zone or date formatter can vary.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DPI = 100
WIDTH = 480  # pixels: Discord shows embed images up to about 400-520 px wide
SPIKE_HEIGHT = 270
SPIKE_HEIGHT_WITH_CHANNEL = 430
REPORT_HEIGHT = 520
WINDOW = timedelta(hours=48)
SPIKE_COLOUR = "#d62728"  # the spike's marker and interval
VIDEO_COLOUR = "#1f77b4"
CHANNEL_COLOUR = "#2ca02c"
BAND_COLOUR = "#7f7f7f"
_STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "atlas",
    "path.simplify": False,
}


@dataclass(frozen=True)
class Rates:
    """Views per hour between consecutive snapshots: ``rates[i]`` over
    ``[edges[i], edges[i + 1]]``, edges in hours relative to the chart's reference time."""

    edges: list[float]
    rates: list[float]


@dataclass(frozen=True)
class SpikeChart:
    png: bytes
    width: int
    height: int
    video: Rates
    channel: Rates | None
    band: tuple[float, float]  # the baseline band, views/hour
    threshold: float  # the rate the spike had to reach
    spike: tuple[float, float]  # (hours relative to the spike: 0, views/hour)
    spike_pixel: tuple[int, int]  # where the spike's marker is, in image pixels (x, y from top)


@dataclass(frozen=True)
class ReportChart:
    png: bytes
    width: int
    height: int
    subscribers: list[tuple[float, int]]  # (days relative to the end, count)
    views: list[tuple[float, int]]
    uploads: list[float]  # days relative to the end


def hourly_rates(points: Sequence[tuple[datetime, int]], reference: datetime) -> Rates:
    """Views per hour between consecutive (observed at, views) points, oldest first;
    intervals of zero length or going back in time are skipped."""
    edges: list[float] = []
    rates: list[float] = []
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        hours = (t1 - t0).total_seconds() / 3600
        if hours <= 0:
            continue
        start, end = _hours(t0, reference), _hours(t1, reference)
        if edges and edges[-1] != start:  # a skipped interval leaves a gap: bridge it flat
            rates.append(float("nan"))
            edges.append(start)
        if not edges:
            edges.append(start)
        edges.append(end)
        rates.append(max((v1 - v0) / hours, 0.0))
    return Rates(edges, rates)


def spike_chart(
    video_points: Sequence[tuple[datetime, int]],
    *,
    at: datetime,
    rate: float,
    baseline: float,
    factor: float = 3.0,
    title: str,
    channel_points: Sequence[tuple[datetime, int]] | None = None,
) -> SpikeChart:
    """The video's views per hour over the ``WINDOW`` before the spike (log scale), the
    baseline band (the rates before the spike's interval, and ``baseline``) with the alert
    threshold, the spike marked at ``(0, rate)``; below it the channel's views per hour
    when ``channel_points`` are given (the channel confirmed the spike)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    video = hourly_rates(video_points, at)
    channel = hourly_rates(channel_points, at) if channel_points else None
    before = [r for r, end in zip(video.rates, video.edges[1:], strict=True) if end < 0 and r == r]
    low = min([*before, baseline]) if before else 0.0
    high = max([*before, baseline]) if before else baseline
    threshold = factor * max(baseline, 1.0)
    usual = f"{low:,.0f}" if round(low) == round(high) else f"{low:,.0f}-{high:,.0f}"
    height = SPIKE_HEIGHT_WITH_CHANNEL if channel is not None else SPIKE_HEIGHT
    with rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH / DPI, height / DPI), dpi=DPI)
        rows = 2 if channel is not None else 1
        axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
        ax = axes[0]
        ax.axhspan(max(low / 1.25, 0.8), max(high, 1.0) * 1.25, color=BAND_COLOUR, alpha=0.18, lw=0)
        ax.axhline(threshold, color=BAND_COLOUR, lw=1, ls="--")
        _stairs(ax, video, VIDEO_COLOUR)
        spike_start = _spike_start(video, channel)
        ax.axvspan(spike_start, 0, color=SPIKE_COLOUR, alpha=0.12, lw=0)
        ax.plot([0], [max(rate, 1.0)], "o", color=SPIKE_COLOUR, ms=8, zorder=5)
        ax.annotate(  # left of the spike's interval, clear of the lines
            f"{rate:,.0f}/h",
            (spike_start, max(rate, 1.0)),
            xytext=(-4, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            color=SPIKE_COLOUR,
            fontweight="bold",
        )
        ax.set_yscale("log")
        ax.set_ylim(0.8, max(rate, threshold, high, 10.0) * 3)
        ax.set_title(title, loc="left")
        ax.set_ylabel("views / hour")
        ax.text(
            0.01,
            0.97,
            f"band: usual {usual}/h · dashed: alert at {threshold:,.0f}/h",
            transform=ax.transAxes,
            va="top",
            fontsize=7,
            color="#444444",
        )
        if channel is not None:
            cax = axes[1]
            _stairs(cax, channel, CHANNEL_COLOUR)
            cax.axvspan(spike_start, 0, color=SPIKE_COLOUR, alpha=0.12, lw=0)
            cax.set_yscale("log")
            cax.set_ylim(bottom=0.8)
            cax.set_ylabel("channel views / hour", fontsize=8)
            cax.set_title("the channel's views confirm the spike", loc="left", fontsize=9)
        axes[-1].set_xlim(-WINDOW.total_seconds() / 3600, 1.5)
        axes[-1].set_xlabel(f"hours before the spike ({at:%Y-%m-%d %H:%M} UTC)")
        # Fixed margins (pixels), cheaper than tight_layout and the same for every chart.
        fig.subplots_adjust(**_margins(height, left=64, bottom=42, top=22, hspace=0.3))
        png = _png(fig)
        x, y = ax.transData.transform((0, max(rate, 1.0)))
    return SpikeChart(
        png=png,
        width=WIDTH,
        height=height,
        video=video,
        channel=channel,
        band=(low, high),
        threshold=threshold,
        spike=(0.0, rate),
        spike_pixel=(round(float(x)), round(height - float(y))),
    )


def report_chart(
    points: Sequence[tuple[datetime, int | None, int | None]],
    uploads: Sequence[datetime],
    *,
    end: datetime,
    title: str,
    days_shown: int = 90,
) -> ReportChart:
    """Three stacked panels over the days before ``end``: subscribers, total views, and one
    bar per upload day. ``points``: (observed at, subscribers, views), oldest first."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    subs = [(_days(t, end), s) for t, s, _ in points if s is not None]
    views = [(_days(t, end), v) for t, _, v in points if v is not None]
    days = [_days(t, end) for t in uploads]
    with rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH / DPI, REPORT_HEIGHT / DPI), dpi=DPI)
        ax_s, ax_v, ax_u = fig.subplots(3, 1, sharex=True, height_ratios=(3, 3, 1.4))
        ax_s.plot(
            [d for d, _ in subs], [s for _, s in subs], "-o", color=CHANNEL_COLOUR, lw=1.5, ms=2
        )
        ax_s.set_title(title, loc="left")
        ax_s.set_ylabel("subscribers")
        ax_v.plot(
            [d for d, _ in views], [v for _, v in views], "-o", color=VIDEO_COLOUR, lw=1.5, ms=2
        )
        ax_v.set_ylabel("views")
        for ax in (ax_s, ax_v):
            ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:,.0f}"))
        counts: dict[int, int] = {}
        for d in days:
            counts[math.floor(d)] = counts.get(math.floor(d), 0) + 1
        ax_u.bar(list(counts), list(counts.values()), width=0.9, color=SPIKE_COLOUR, align="edge")
        ax_u.set_ylim(0, max(counts.values(), default=0) + 1)
        ax_u.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))
        ax_u.set_ylabel("uploads")
        # The last REPORT days, or less while the history is shorter (so it is not a sliver).
        known = [d for d, _ in subs] + [d for d, _ in views] + days
        ax_u.set_xlim(max(-float(days_shown), math.floor(min(known, default=-1.0)) - 0.5), 0)
        ax_u.set_xlabel(f"days before {end:%Y-%m-%d %H:%M} UTC")
        fig.subplots_adjust(**_margins(REPORT_HEIGHT, left=94, bottom=42, top=22, hspace=0.12))
        png = _png(fig)
    return ReportChart(png, WIDTH, REPORT_HEIGHT, subs, views, days)


def _stairs(ax: Any, rates: Rates, colour: str) -> None:
    if rates.rates:
        ax.stairs(
            [max(r, 1.0) for r in rates.rates], rates.edges, baseline=None, color=colour, lw=1.6
        )


def _spike_start(video: Rates, channel: Rates | None) -> float:
    """Where the spike's interval starts: the last interval ending at the spike (the
    channel's, when it confirmed the spike: it is the shorter)."""
    for rates in (channel, video):
        if rates is not None and len(rates.edges) >= 2 and abs(rates.edges[-1]) < 1e-6:
            return rates.edges[-2]
    return -1.0


def _margins(height: int, *, left: int, bottom: int, top: int, hspace: float) -> dict[str, float]:
    """``subplots_adjust`` arguments from margins in pixels (right: 10 px); ``hspace`` is the
    gap between panels as a fraction of a panel's height."""
    return {
        "left": left / WIDTH,
        "right": 1 - 10 / WIDTH,
        "bottom": bottom / height,
        "top": 1 - top / height,
        "hspace": hspace,
    }


def _hours(t: datetime, reference: datetime) -> float:
    return (t - reference).total_seconds() / 3600


def _days(t: datetime, reference: datetime) -> float:
    return (t - reference).total_seconds() / 86400


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = io.BytesIO()
    # No "Software" tag and no creation time: the same data draws the same bytes.
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()
