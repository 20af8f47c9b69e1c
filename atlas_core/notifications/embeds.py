"""Discord embeds for one alert or a digest of many, always within Discord's limits.

    alert = Alert("Anomaly", "Unusual velocity", AlertChannel.SURVEILLANCE, AlertLevel.WARNING)
    alert_embed(alert, footer="Atlas · prod")    # {"title": ..., "color": 0xF1C40F, ...}
    digest_embed([alert, ...], footer="Atlas · prod", now=datetime.now(UTC))

Text over a limit is cut and ends in "…"; nothing is ever rejected. Discord's limits: title
256, description 4096, 25 fields, field name 256 / value 1024, footer 2048, 6000 characters
in all. When the whole embed is too long the description gives way first, then field values
(last field first), then field names, then the title. Bidirectional control characters
(U+202A-E, U+2066-9, U+200E/F) are removed from every text, so a title cannot reorder what a
reader sees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from atlas_core.notifications.levels import SEVERITY, AlertChannel, AlertLevel
from atlas_core.youtube.parsing import display_text

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
TOTAL_LIMIT = 6000

ELLIPSIS = "…"
_BLANK = "\u200b"  # Discord rejects empty field names and values; this shows as nothing.
_DIGEST_LINE_TITLE = 200  # each alert's title in a digest listing


@dataclass(frozen=True)
class Alert:
    """One alert as the caller sent it, stamped with the time it was sent."""

    title: str
    description: str
    channel: AlertChannel
    level: AlertLevel
    fields: tuple[tuple[str, str], ...] = ()
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def shorten(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start ending in "…"."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def alert_embed(alert: Alert, *, footer: str) -> dict[str, Any]:
    """The embed for one alert: colour = level, fields inline, timestamp = when it was sent."""
    return _fit(
        title=alert.title,
        description=alert.description,
        fields=alert.fields,
        color=alert.level.value,
        footer=footer,
        timestamp=alert.at,
    )


def digest_embed(alerts: Sequence[Alert], *, footer: str, now: datetime) -> dict[str, Any]:
    """One embed listing many alerts of one channel: count, levels and titles, worst colour."""
    if not alerts:
        raise ValueError("a digest needs at least one alert")
    counts = Counter(alert.level for alert in alerts)
    worst = max(counts, key=SEVERITY.index)
    lines = [
        f"`{a.at:%H:%M:%S}` **{a.level.name}** {shorten(a.title, _DIGEST_LINE_TITLE)}"
        for a in alerts
    ]
    first, last = alerts[0].at, alerts[-1].at
    fields = [(level.name, str(counts[level])) for level in reversed(SEVERITY) if counts[level]]
    fields.append(("Between", f"{first:%H:%M:%S} and {last:%H:%M:%S} UTC"))
    return _fit(
        title=f"Alert digest: {len(alerts)} alerts on '{alerts[0].channel.value}'",
        description=_listing(lines, DESCRIPTION_LIMIT),
        fields=fields,
        color=worst.value,
        footer=footer,
        timestamp=now,
    )


def _listing(lines: Sequence[str], limit: int) -> str:
    """Lines joined by newlines; those that do not fit become "… and N more"."""
    kept: list[str] = []
    used = 0
    reserve = len(f"\n{ELLIPSIS} and {len(lines)} more")
    for index, line in enumerate(lines):
        cost = len(line) + (1 if kept else 0)
        is_last = index == len(lines) - 1
        if used + cost + (0 if is_last else reserve) > limit:
            kept.append(f"{ELLIPSIS} and {len(lines) - index} more")
            break
        kept.append(line)
        used += cost
    return shorten("\n".join(kept), limit)


def _fit(
    *,
    title: str,
    description: str,
    fields: Sequence[tuple[str, str]],
    color: int,
    footer: str,
    timestamp: datetime,
) -> dict[str, Any]:
    # Bidirectional controls from a hostile title would reorder the rest of the embed.
    title, description, footer = display_text(title), display_text(description), footer
    title = shorten(title if title.strip() else "(untitled)", TITLE_LIMIT)
    description = shorten(description, DESCRIPTION_LIMIT)
    footer = shorten(footer, FOOTER_LIMIT)
    shown = [(display_text(name), display_text(value)) for name, value in fields]
    pairs = [
        [
            shorten(name if name.strip() else _BLANK, FIELD_NAME_LIMIT),
            shorten(value if value.strip() else _BLANK, FIELD_VALUE_LIMIT),
        ]
        for name, value in shown
    ]
    marker: list[list[str]] = []  # stands for the fields over the limit; never trimmed
    if len(pairs) > FIELD_COUNT_LIMIT:
        hidden = len(pairs) - (FIELD_COUNT_LIMIT - 1)
        pairs, marker = (
            pairs[: FIELD_COUNT_LIMIT - 1],
            [[ELLIPSIS, f"{hidden} more fields not shown"]],
        )

    texts = [title, description, footer, *(text for pair in pairs + marker for text in pair)]
    excess = sum(len(text) for text in texts) - TOTAL_LIMIT
    description, excess = _trim(description, excess)
    for slot in (1, 0):  # values first, then names; last field first
        for pair in reversed(pairs):
            pair[slot], excess = _trim(pair[slot], excess)
    title, excess = _trim(title, excess)
    pairs += marker

    embed: dict[str, Any] = {
        "title": title,
        "color": color,
        "timestamp": timestamp.astimezone(UTC).isoformat(timespec="milliseconds"),
        "footer": {"text": footer},
    }
    if description:
        embed["description"] = description
    if pairs:
        embed["fields"] = [{"name": n, "value": v, "inline": True} for n, v in pairs]
    return embed


def _trim(text: str, excess: int) -> tuple[str, int]:
    """Cut up to ``excess`` characters from ``text`` (keeping at least "…"); what is left over."""
    if excess <= 0 or len(text) <= 1:
        return text, excess
    cut = shorten(text, max(len(text) - excess, 1))
    return cut, excess - (len(text) - len(cut))
