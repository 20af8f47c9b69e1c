"""A deterministic YouTube world: channels, videos, growing statistics, scheduled happenings.

    world = World(seed=7)                          # 6 channels, 10-40 videos each
    big = World(seed=7, channels=200, videos=10_000, happenings=False)
    world.visible_videos(channel_id, at=now)       # newest first
    huge = World(seed=7, channels=10_000, videos=1_000_000, compact=True)   # ~50 MB, see below
    world.add_video(channel_id, published_at=start + timedelta(hours=30))  # an upload on cue
    world.schedule_spike(video_id, at=start + timedelta(hours=5), views_per_hour=20_000)

Everything derives from the seed and the start time: ids, handles, titles, durations,
topics, statistics curves and the timeline of happenings (a view spike, a channel renamed,
a video deleted, a subscriber drop, re-uploads of one channel's videos by another, and new
uploads), at fixed offsets after ``start``; or, with ``story=DEMO_STORY``
(:mod:`atlas_simulator.story`), exactly the demo's scripted beats.

``compact=True`` holds a million videos without a million objects: video ``i``'s id encodes
``i`` (:func:`compact_video_id`), each channel owns a contiguous index range (newest first,
evenly spread over two years), and a video is built from ``seed`` and ``i`` when asked for.
Channel totals are computed once per channel. No generated happenings (nothing to schedule
them on); :meth:`World.shape_backlog` moves a channel's generated videos back in time and sets
their combined views per hour.

A caller scripts its own timeline in either mode: :meth:`World.add_video` adds a video
published at any moment (visible from then on: a new upload appears in the uploads playlist
and the channel's counts when its time comes), :meth:`World.schedule_spike` gives any video a
view spike. A compact world keeps added videos in a small ordinary dict beside the generated
ones, and spikes on generated videos beside them too, so channel totals stay exact.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, overload

from atlas_simulator.story import SPIKE_VIEWS, Beat

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
WIKI = "https://en.wikipedia.org/wiki/"
DEMO_KEY = "sim-demo-key"

_ADJECTIVES = (
    "Pixel Quantum Rusty Golden Midnight Cosmic Tiny Wild Neon Silent Urban Lazy Brave "
    "Crimson Electric Hidden Polar Lucky Humble Atomic"
).split()
_NOUNS = (
    "Forge Kitchen Garage Lab Harbor Studio Workshop Valley Arcade Library Orbit Canvas "
    "Trail Engine Garden Signal Atlas Lantern Circuit Compass"
).split()
# (theme, category id, topic pages, title words)
_THEMES: list[tuple[str, str, list[str], list[str]]] = [
    (
        "gaming",
        "20",
        ["Video_game_culture", "Action_game", "Role-playing_video_game"],
        ["Speedrun", "Boss fight", "Let's play", "Build guide", "Patch notes"],
    ),
    (
        "music",
        "10",
        ["Music", "Pop_music", "Hip_hop_music", "Rhythm_and_blues"],
        ["Live session", "Cover", "Beat tape", "Studio vlog", "Remix"],
    ),
    (
        "tech",
        "28",
        ["Technology", "Knowledge"],
        ["Review", "Teardown", "Benchmark", "Setup tour", "Repair"],
    ),
    (
        "food",
        "26",
        ["Food", "Lifestyle_(sociology)"],
        ["Recipe", "Street food", "Taste test", "One-pot", "Bakery day"],
    ),
    (
        "sport",
        "17",
        ["Sport", "Association_football", "Physical_fitness"],
        ["Highlights", "Training", "Match recap", "Drills", "Tactics"],
    ),
    (
        "film",
        "1",
        ["Film", "Entertainment", "Humour"],
        ["Trailer breakdown", "Sketch", "Short film", "Behind the scenes", "Review"],
    ),
]
_COUNTRIES = ["US", "GB", "DE", "FR", "JP", "BR", "IN", "CA", None]


def _random_id(rng: random.Random, length: int, last: str) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(length)) + rng.choice(last)


@dataclass
class SimChannel:
    id: str
    handle: str
    title: str
    description: str
    country: str | None
    published_at: datetime
    theme: int
    subscribers: int
    subscribers_per_hour: float
    hidden_subscribers: bool = False
    renamed_at: datetime | None = None
    new_title: str | None = None
    drop_at: datetime | None = None
    drop_fraction: float = 0.0
    video_ids: list[str] = field(default_factory=list)

    @property
    def uploads_playlist_id(self) -> str:
        return "UU" + self.id[2:]

    def title_at(self, at: datetime) -> str:
        if self.renamed_at is not None and self.new_title and at >= self.renamed_at:
            return self.new_title
        return self.title

    def subscribers_at(self, at: datetime, start: datetime) -> int:
        hours = max(0.0, (at - start).total_seconds() / 3600)
        count = self.subscribers + self.subscribers_per_hour * hours
        if self.drop_at is not None and at >= self.drop_at:
            count *= 1 - self.drop_fraction
        return _three_significant(int(count))


@dataclass
class SimVideo:
    id: str
    channel_id: str
    title: str
    description: str
    published_at: datetime
    duration_seconds: int
    category_id: str
    topics: list[str]
    views: int
    views_per_hour: float
    like_ratio: float
    comment_ratio: float
    likes_hidden: bool = False
    comments_disabled: bool = False
    hd: bool = True
    spike_at: datetime | None = None
    spike_views_per_hour: float = 0.0
    burst_views: int = 0  # views that all arrive at spike_at (the demo's spike)
    deleted_at: datetime | None = None
    frames_of: str | None = None  # a re-upload shows this video's frames, altered
    alteration: int = 0

    def visible_at(self, at: datetime) -> bool:
        return self.published_at <= at and (self.deleted_at is None or at < self.deleted_at)

    def views_at(self, at: datetime) -> int:
        hours = max(0.0, (at - self.published_at).total_seconds() / 3600)
        views = self.views + self.views_per_hour * hours
        if self.spike_at is not None:
            views += _spike_views(at, self.spike_at, self.spike_views_per_hour, self.burst_views)
        return int(views)

    @property
    def frame_source(self) -> str:
        return self.frames_of or self.id


@dataclass(frozen=True)
class Happening:
    at: datetime
    kind: str  # view_spike | channel_renamed | video_deleted | subscriber_drop | reupload | upload
    channel_id: str
    video_id: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "at": rfc3339(self.at),
            "kind": self.kind,
            "channel_id": self.channel_id,
            "video_id": self.video_id,
            "detail": self.detail,
        }


class World:
    """The simulator's channels and videos. ``videos`` is how many exist at ``start``."""

    def __init__(
        self,
        seed: int = 0,
        *,
        channels: int = 6,
        videos: int | None = None,
        start: datetime | None = None,
        happenings: bool = True,
        api_keys: list[str] | None = None,
        compact: bool = False,
        story: Sequence[Beat] | None = None,
    ) -> None:
        if channels < 2:
            raise ValueError(f"a world needs at least 2 channels (re-uploads), got {channels}")
        self.seed = seed
        self.start = (start or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.api_keys = list(api_keys or [DEMO_KEY])
        self.channels: dict[str, SimChannel] = {}
        self.videos: dict[str, SimVideo] = {}
        self.happenings: list[Happening] = []
        self._by_handle: dict[str, str] = {}
        self.compact = compact
        self._add_rng = random.Random(f"{seed}/added")  # add_video's ids and traits
        # compact mode: added videos per channel (newest first), spikes on generated videos
        # per channel, and shape_backlog's (newest publish time, views-per-hour scale).
        self._added: dict[str, list[SimVideo]] = {}
        self._spikes: dict[str, dict[str, tuple[datetime, float, int]]] = {}
        self._backlog: dict[str, tuple[datetime | None, float]] = {}
        rng = random.Random(seed)
        self._make_channels(rng, channels)
        counts = self._video_counts(rng, channels, videos)
        if compact:
            if happenings:
                raise ValueError("a compact world has no happenings: pass happenings=False")
            self._make_compact(counts)
            return
        for channel, count in zip(self.channels.values(), counts, strict=True):
            for _ in range(count):
                ago = timedelta(hours=rng.uniform(2, 24 * 720))
                self._add_video(rng, channel, self.start - ago)
        if story is not None:
            for channel in self.channels.values():  # newest first: the script picks by it
                channel.video_ids.sort(key=lambda v: self.videos[v].published_at, reverse=True)
            self._script(rng, story)
        elif happenings:
            self._schedule(rng)
        for channel in self.channels.values():
            channel.video_ids.sort(key=lambda v: self.videos[v].published_at, reverse=True)

    # --- queries -----------------------------------------------------------------------

    def channel_by_handle(self, handle: str) -> SimChannel | None:
        channel_id = self._by_handle.get(handle.lower().lstrip("@"))
        return self.channels.get(channel_id) if channel_id else None

    def channel_by_playlist(self, playlist_id: str) -> SimChannel | None:
        if not playlist_id.startswith("UU"):
            return None
        return self.channels.get("UC" + playlist_id[2:])

    def visible_videos(self, channel_id: str, at: datetime) -> Sequence[SimVideo]:
        """The channel's uploads visible at ``at``, newest first (a compact world's builds
        each generated video only when it is read)."""
        channel = self.channels[channel_id]
        if self.compact:
            return _Uploads(self, channel, at)
        return [self.videos[v] for v in channel.video_ids if self.videos[v].visible_at(at)]

    def channel_views(self, channel_id: str, at: datetime) -> int:
        if self.compact and self._all_generated_out(channel_id, at):
            # the generated videos' views in closed form (see _channel_totals), their spikes
            # beside them, and the few added videos one by one
            base, per_hour = self._channel_totals(channel_id)
            views = base + per_hour * at.timestamp() / 3600
            for spike_at, rate, burst in self._spikes.get(channel_id, {}).values():
                views += _spike_views(at, spike_at, rate, burst)
            added = self._added.get(channel_id, ())
            return int(views) + sum(v.views_at(at) for v in added if v.visible_at(at))
        return sum(v.views_at(at) for v in self.visible_videos(channel_id, at))

    def visible_count(self, channel_id: str, at: datetime) -> int:
        if self.compact and self._all_generated_out(channel_id, at):
            added = self._added.get(channel_id, ())
            generated = len(self.channels[channel_id].video_ids)
            return generated + sum(1 for v in added if v.visible_at(at))
        return len(self.visible_videos(channel_id, at))

    def _all_generated_out(self, channel_id: str, at: datetime) -> bool:
        """Whether every generated video of the channel is published by ``at`` (they are
        never deleted): then its totals need no video built."""
        return at >= self._generated_published(self.channels[channel_id], 0)

    def channel_topics(self, channel_id: str) -> list[str]:
        channel = self.channels[channel_id]
        if self.compact:
            return sorted(WIKI + t for t in _THEMES[channel.theme][2])
        return sorted({t for v in channel.video_ids for t in self.videos[v].topics})

    def to_json(self, at: datetime) -> dict[str, Any]:
        """What ``GET /_sim/world`` returns: keys, channels, handles, video ids, timeline."""
        channels = [
            {
                "id": c.id,
                "handle": c.handle,
                "title": c.title_at(at),
                "uploads_playlist_id": c.uploads_playlist_id,
                "video_ids": [v.id for v in self.visible_videos(c.id, at)],
            }
            for c in self.channels.values()
        ]
        return {
            "seed": self.seed,
            "start": rfc3339(self.start),
            "now": rfc3339(at),
            "api_keys": self.api_keys,
            "channel_ids": [c["id"] for c in channels],
            "handles": [c["handle"] for c in channels],
            "video_ids": [v for c in channels for v in c["video_ids"]],
            "channels": channels,
            "happenings": [h.to_json() for h in self.happenings],
        }

    # --- scripting a timeline -----------------------------------------------------------

    def add_video(
        self,
        channel_id: str,
        published_at: datetime,
        *,
        views: int = 0,
        views_per_hour: float | None = None,
    ) -> SimVideo:
        """A new video of ``channel_id`` published at ``published_at`` (before ``start``: part
        of the channel's past; after: an upload that appears then, with an ``upload``
        happening). ``views`` at publication, growing by ``views_per_hour`` (random when
        None). Title, duration and topics come from the world's seed and the calls so far."""
        channel = self.channels[channel_id]  # KeyError for an unknown channel
        published = published_at.astimezone(UTC).replace(microsecond=0)
        video = self._new_video(self._add_rng, channel, published, views=views)
        if views_per_hour is not None:
            video.views_per_hour = float(views_per_hour)
        if self.compact:
            self.videos.added[video.id] = video  # type: ignore[attr-defined]
            bisect.insort(self._added.setdefault(channel_id, []), video, key=_newest_first)
        else:
            self.videos[video.id] = video
            bisect.insort(channel.video_ids, video.id, key=lambda v: _newest_first(self.videos[v]))
        if published > self.start:
            self._happen(published, "upload", channel_id, video.id)
        return video

    def schedule_spike(
        self, video_id: str, at: datetime, views_per_hour: float = 0.0, burst_views: int = 0
    ) -> None:
        """From ``at`` on, ``video_id`` gains ``views_per_hour`` more views an hour (and
        ``burst_views`` all at once at ``at``); its channel's views with it. Replaces any spike
        the video had. KeyError for an unknown video."""
        video = self.videos[video_id]
        at = at.astimezone(UTC)
        if self.compact and video_id not in self.videos.added:  # type: ignore[attr-defined]
            # a generated video is rebuilt on every lookup: keep the spike beside it
            spikes = self._spikes.setdefault(video.channel_id, {})
            spikes[video_id] = (at, float(views_per_hour), int(burst_views))
        else:
            video.spike_at, video.spike_views_per_hour = at, float(views_per_hour)
            video.burst_views = int(burst_views)
        detail = f"+{views_per_hour:,.0f} views/h" if views_per_hour else f"+{burst_views:,} views"
        self._happen(at, "view_spike", video.channel_id, video_id, detail)

    def shape_backlog(
        self,
        channel_id: str,
        *,
        newest: datetime | None = None,
        views_per_hour: float | None = None,
    ) -> None:
        """Compact mode: place the channel's generated videos (its backlog) so the newest is
        published at ``newest`` (at or before ``start``; the rest still spread evenly over the
        two years before it), and scale their rates so together they gain ``views_per_hour``.
        None keeps that part as it is. Lets a caller put its own recent uploads
        (:meth:`add_video`) after the backlog, with the channel's views at the rate it wants."""
        if not self.compact:
            raise ValueError("shape_backlog needs a compact world (compact=True)")
        channel = self.channels[channel_id]
        if newest is not None and newest > self.start:
            raise ValueError(f"a backlog ends at or before the world's start, not {newest}")
        old_newest, old_scale = self._backlog.get(channel_id, (None, 1.0))
        scale = old_scale
        if views_per_hour is not None:
            if views_per_hour < 0:
                raise ValueError(f"views_per_hour must be >= 0, got {views_per_hour}")
            self._backlog[channel_id] = (old_newest, 1.0)
            raw = sum(self.videos[v].views_per_hour for v in channel.video_ids)
            scale = views_per_hour / raw if raw else 1.0
        when = newest.astimezone(UTC) if newest is not None else old_newest
        self._backlog[channel_id] = (when, scale)
        self._totals.pop(channel_id, None)

    # --- compact mode ------------------------------------------------------------------

    def _make_compact(self, counts: list[int]) -> None:
        self.videos = _CompactVideos(self)  # type: ignore[assignment]
        self._owner: list[tuple[int, SimChannel]] = []  # (first index, channel), ascending
        self._totals: dict[str, tuple[float, float]] = {}
        first = 0
        for channel, count in zip(self.channels.values(), counts, strict=True):
            channel.video_ids = _IdRange(first, count)  # type: ignore[assignment]
            self._owner.append((first, channel))
            first += count
        self._first_indexes = [f for f, _ in self._owner]
        self.video_total = first

    def _compact_video(self, index: int) -> SimVideo:
        slot = bisect.bisect_right(self._first_indexes, index) - 1
        first, channel = self._owner[slot]
        rng = random.Random(self.seed * 1_000_003 + index)
        _, category, topics, words = _THEMES[channel.theme]
        scale = self._backlog.get(channel.id, (None, 1.0))[1]
        video_id = compact_video_id(index)
        video = SimVideo(
            id=video_id,
            channel_id=channel.id,
            title=f"{rng.choice(words)} #{rng.randint(1, 999)} | {channel.title}",
            description=f"A {_THEMES[channel.theme][0]} video by {channel.title}.",
            published_at=self._generated_published(channel, index - first),
            duration_seconds=rng.randint(120, 5400),
            category_id=category,
            topics=[WIKI + t for t in topics[:2]],
            views=int(10 ** rng.uniform(2, 5.5)),
            views_per_hour=rng.uniform(0.5, 200) * scale,
            like_ratio=rng.uniform(0.01, 0.06),
            comment_ratio=rng.uniform(0.0005, 0.005),
        )
        spike = self._spikes.get(channel.id, {}).get(video_id)
        if spike is not None:
            video.spike_at, video.spike_views_per_hour, video.burst_views = spike
        return video

    def _generated_published(self, channel: SimChannel, k: int) -> datetime:
        """When the channel's ``k``-th newest generated video was published: evenly spread
        over two years, the newest two hours before start (or where shape_backlog put it)."""
        span = 24 * 720 / max(len(channel.video_ids), 1)  # hours between uploads
        newest = self._backlog.get(channel.id, (None, 1.0))[0]
        if newest is None:
            published = self.start - timedelta(hours=2 + k * span)
        else:
            published = newest - timedelta(hours=k * span)
        return published.replace(microsecond=0)

    def _channel_totals(self, channel_id: str) -> tuple[float, float]:
        """(sum of views less rate x publish hour, sum of rates): views at t = a + b*t."""
        if channel_id not in self._totals:
            base = rate = 0.0
            for video_id in self.channels[channel_id].video_ids:
                v = self.videos[video_id]
                base += v.views - v.views_per_hour * v.published_at.timestamp() / 3600
                rate += v.views_per_hour
            self._totals[channel_id] = (base, rate)
        return self._totals[channel_id]

    # --- construction ------------------------------------------------------------------

    def _make_channels(self, rng: random.Random, count: int) -> None:
        for index in range(count):
            title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
            base = title.replace(" ", "").lower()
            handle, n = base, 1
            while handle in self._by_handle:
                n += 1
                handle = f"{base}{n}"
            if n > 1:
                title = f"{title} {n}"
            theme = rng.randrange(len(_THEMES))
            channel = SimChannel(
                id="UC" + _random_id(rng, 21, "AQgw"),
                handle="@" + handle,
                title=title,
                description=f"{title}: {_THEMES[theme][0]} videos every week.",
                country=rng.choice(_COUNTRIES),
                published_at=self.start - timedelta(days=rng.uniform(800, 5000)),
                theme=theme,
                subscribers=int(10 ** rng.uniform(3, 6.5)),
                subscribers_per_hour=rng.uniform(1, 60),
                hidden_subscribers=index == 1,
            )
            self.channels[channel.id] = channel
            self._by_handle[handle] = channel.id

    @staticmethod
    def _video_counts(rng: random.Random, channels: int, total: int | None) -> list[int]:
        if total is None:
            return [rng.randint(10, 40) for _ in range(channels)]
        weights = [rng.uniform(0.5, 1.5) for _ in range(channels)]
        scale = total / sum(weights)
        counts = [int(w * scale) for w in weights]
        for i in range(total - sum(counts)):
            counts[i % channels] += 1
        return counts

    def _add_video(
        self, rng: random.Random, channel: SimChannel, published: datetime, **extra: Any
    ) -> SimVideo:
        video = self._new_video(rng, channel, published, **extra)
        self.videos[video.id] = video
        channel.video_ids.append(video.id)
        return video

    def _new_video(
        self, rng: random.Random, channel: SimChannel, published: datetime, **extra: Any
    ) -> SimVideo:
        video_id = _random_id(rng, 10, "AEIMQUYcgkosw048")
        while video_id in self.videos:
            video_id = _random_id(rng, 10, "AEIMQUYcgkosw048")
        _, category, topics, words = _THEMES[channel.theme]
        roll = rng.random()
        if roll < 0.05:
            duration = rng.randint(86400, 3 * 86400)  # marathon stream over a day
        elif roll < 0.15:
            duration = rng.randint(15, 59)  # short
        elif roll < 0.2:
            duration = rng.choice([60, 600, 3600])  # round numbers: PT1M, PT10M, PT1H
        else:
            duration = rng.randint(120, 5400)
        picked = rng.sample(topics, k=rng.randint(1, len(topics))) if rng.random() > 0.1 else []
        video = SimVideo(
            id=video_id,
            channel_id=channel.id,
            title=f"{rng.choice(words)} #{rng.randint(1, 999)} | {channel.title}",
            description=f"A {_THEMES[channel.theme][0]} video by {channel.title}.",
            published_at=published.replace(microsecond=0),
            duration_seconds=duration,
            category_id=category,
            topics=[WIKI + t for t in picked],
            views=int(10 ** rng.uniform(2, 5.5)),
            views_per_hour=rng.uniform(0.5, 200),
            like_ratio=rng.uniform(0.01, 0.06),
            comment_ratio=rng.uniform(0.0005, 0.005),
            likes_hidden=rng.random() < 0.05,
            comments_disabled=rng.random() < 0.05,
            hd=rng.random() < 0.85,
        )
        for name, value in extra.items():
            setattr(video, name, value)
        return video

    def _schedule(self, rng: random.Random) -> None:
        hour = timedelta(hours=1)
        channels = list(self.channels.values())
        popular = [v for v in self.videos.values()]
        for video in rng.sample(popular, k=min(2, len(popular))):
            video.spike_at = self.start + 1 * hour
            video.spike_views_per_hour = 50_000.0
            self._happen(video.spike_at, "view_spike", video.channel_id, video.id, "+50k views/h")
        renamed = channels[0]
        renamed.renamed_at = self.start + 2 * hour
        renamed.new_title = f"{renamed.title} Official"
        self._happen(renamed.renamed_at, "channel_renamed", renamed.id, None, renamed.new_title)
        victim = self.videos[rng.choice(channels[2 % len(channels)].video_ids)]
        victim.deleted_at = self.start + 3 * hour
        self._happen(victim.deleted_at, "video_deleted", victim.channel_id, victim.id)
        dropped = channels[3 % len(channels)]
        dropped.drop_at, dropped.drop_fraction = self.start + 4 * hour, 0.3
        self._happen(dropped.drop_at, "subscriber_drop", dropped.id, None, "-30% subscribers")
        source, thief = channels[0], channels[-1]
        for n, original_id in enumerate(source.video_ids[:2]):
            original = self.videos[original_id]
            copy = self._add_video(
                rng,
                thief,
                self.start + (5 + 0.5 * n) * hour,
                title=original.title.split(" | ")[0] + f" (reupload) | {thief.title}",
                duration_seconds=original.duration_seconds,
                topics=list(original.topics),
                frames_of=original.id,
                alteration=n + 1,
                views=0,
            )
            self._happen(copy.published_at, "reupload", thief.id, copy.id, f"copy of {original.id}")
        for channel in channels[: min(len(channels), 8)]:
            published = self.start + timedelta(hours=rng.uniform(0.25, 12))
            video = self._add_video(rng, channel, published, views=0)
            self._happen(published, "upload", channel.id, video.id)
        self.happenings.sort(key=lambda h: h.at)

    def _script(self, rng: random.Random, story: Sequence[Beat]) -> None:
        """The given beats and nothing else, each on its own channel where it can be:
        rename channels[1], delete from channels[2], spike channels[3], re-upload channels[0]'s
        newest video on the last channel, new uploads round the channels from channels[4]."""
        channels = list(self.channels.values())
        n = len(channels)
        used: set[str] = set()
        uploads = 0
        for beat in sorted(story, key=lambda b: b.hours):
            at = self.start + timedelta(hours=beat.hours)
            if beat.kind == "channel_renamed":
                renamed = channels[1 % n]
                renamed.renamed_at, renamed.new_title = at, f"{renamed.title} Official"
                self._happen(at, beat.kind, renamed.id, None, renamed.new_title)
            elif beat.kind == "video_deleted":
                victim = self._pick(rng, channels[2 % n], used)
                victim.deleted_at = at
                self._happen(at, beat.kind, victim.channel_id, victim.id)
            elif beat.kind == "view_spike":
                spiked = self._pick(rng, channels[3 % n], used)
                spiked.spike_at, spiked.burst_views = at, SPIKE_VIEWS
                self._happen(at, beat.kind, spiked.channel_id, spiked.id, f"+{SPIKE_VIEWS:,} views")
            elif beat.kind == "reupload":
                source, thief = channels[0], channels[-1]
                original = self.videos[source.video_ids[0]]
                used.add(original.id)
                copy = self._add_video(
                    rng,
                    thief,
                    at,
                    title=original.title.split(" | ")[0] + f" | {thief.title}",
                    duration_seconds=original.duration_seconds,
                    topics=list(original.topics),
                    frames_of=original.id,
                    alteration=1,
                    views=0,
                )
                self._happen(at, beat.kind, thief.id, copy.id, f"copy of {original.id}")
            elif beat.kind == "upload":
                channel = channels[(4 + uploads) % n]
                uploads += 1
                video = self._add_video(rng, channel, at, views=0)
                self._happen(at, beat.kind, channel.id, video.id)
            else:
                raise ValueError(f"unknown beat kind {beat.kind!r}")
        self.happenings.sort(key=lambda h: h.at)

    def _pick(self, rng: random.Random, channel: SimChannel, used: set[str]) -> SimVideo:
        """One of the channel's videos not yet the subject of another beat."""
        choice = rng.choice([v for v in channel.video_ids if v not in used])
        used.add(choice)
        return self.videos[choice]

    def _happen(
        self, at: datetime, kind: str, channel_id: str, video_id: str | None, detail: str = ""
    ) -> None:
        # in time order (construction sorts its own; add_video and schedule_spike insert)
        happening = Happening(at, kind, channel_id, video_id, detail)
        bisect.insort_right(self.happenings, happening, key=lambda h: h.at)


_ID_DIGITS = 10


def compact_video_id(index: int) -> str:
    """The id of a compact world's video ``index``: 10 base-64 digits and a final ``A``."""
    digits = []
    for _ in range(_ID_DIGITS):
        index, d = divmod(index, 64)
        digits.append(_ALPHABET[d])
    return "".join(reversed(digits)) + "A"


def compact_video_index(video_id: str) -> int | None:
    """The index encoded in a compact id, or None when ``video_id`` is not one."""
    if len(video_id) != _ID_DIGITS + 1 or video_id[-1] != "A":
        return None
    index = 0
    for ch in video_id[:-1]:
        d = _ALPHABET.find(ch)
        if d < 0:
            return None
        index = index * 64 + d
    return index


class _IdRange:
    """A channel's compact video ids, newest first, without storing them."""

    def __init__(self, first: int, count: int) -> None:
        self.first, self.count = first, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, item: int | slice) -> Any:
        if isinstance(item, slice):
            return [compact_video_id(self.first + i) for i in range(*item.indices(self.count))]
        if not -self.count <= item < self.count:
            raise IndexError(item)
        return compact_video_id(self.first + item % self.count)

    def __iter__(self) -> Any:
        return (compact_video_id(self.first + i) for i in range(self.count))


class _Uploads(Sequence[SimVideo]):
    """A compact channel's uploads visible at a moment, newest first: the added ones merged
    into the generated ones by publish time, a generated video built only when read."""

    def __init__(self, world: World, channel: SimChannel, at: datetime) -> None:
        self.world, self.first = world, channel.video_ids.first  # type: ignore[attr-defined]
        added: list[tuple[datetime, SimVideo | int]] = [
            (v.published_at, v) for v in world._added.get(channel.id, ()) if v.visible_at(at)
        ]
        generated: list[tuple[datetime, SimVideo | int]] = []
        for k in range(len(channel.video_ids)):
            published = world._generated_published(channel, k)
            if published <= at:  # never deleted
                generated.append((published, k))
        merged = heapq.merge(added, generated, key=_first, reverse=True)
        self.slots = [slot for _, slot in merged]

    def __len__(self) -> int:
        return len(self.slots)

    def _video(self, slot: SimVideo | int) -> SimVideo:
        return self.world._compact_video(self.first + slot) if isinstance(slot, int) else slot

    @overload
    def __getitem__(self, item: int) -> SimVideo: ...

    @overload
    def __getitem__(self, item: slice) -> list[SimVideo]: ...

    def __getitem__(self, item: int | slice) -> SimVideo | list[SimVideo]:
        if isinstance(item, slice):
            return [self._video(slot) for slot in self.slots[item]]
        return self._video(self.slots[item])

    def __iter__(self) -> Iterator[SimVideo]:
        return (self._video(slot) for slot in self.slots)


class _CompactVideos:
    """``World.videos`` of a compact world: generated videos built on demand, plus the few
    :meth:`World.add_video` added (``added``, an ordinary dict)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.added: dict[str, SimVideo] = {}

    def __len__(self) -> int:
        return self.world.video_total + len(self.added)

    def _index(self, video_id: object) -> int | None:
        index = compact_video_index(video_id) if isinstance(video_id, str) else None
        return index if index is not None and index < self.world.video_total else None

    def __contains__(self, video_id: object) -> bool:
        return video_id in self.added or self._index(video_id) is not None

    def __getitem__(self, video_id: str) -> SimVideo:
        added = self.added.get(video_id)
        if added is not None:
            return added
        index = self._index(video_id)
        if index is None:
            raise KeyError(video_id)
        return self.world._compact_video(index)

    def get(self, video_id: str, default: Any = None) -> Any:
        return self[video_id] if video_id in self else default

    def values(self) -> Any:
        generated = (self.world._compact_video(i) for i in range(self.world.video_total))
        return itertools.chain(generated, self.added.values())


def _spike_views(at: datetime, spike_at: datetime, per_hour: float, burst: int) -> float:
    """Views a spike from ``spike_at`` has added by ``at``: ``per_hour`` after it, ``burst``
    from its first moment."""
    views = 0.0
    if at > spike_at:
        views += per_hour * (at - spike_at).total_seconds() / 3600
    if at >= spike_at:
        views += burst
    return views


def _first(pair: tuple[datetime, object]) -> datetime:
    return pair[0]


def _newest_first(video: SimVideo) -> float:
    return -video.published_at.timestamp()


def _three_significant(count: int) -> int:
    """YouTube shows subscriber counts rounded down to three significant figures."""
    if count < 1000:
        return count
    step: int = 10 ** (len(str(count)) - 3)
    return count // step * step


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_duration(seconds: int) -> str:
    """Seconds -> ISO 8601 the way YouTube writes it: ``P1DT2H3M4S``, ``PT4M``, ``P0D``."""
    if seconds <= 0:
        return "P0D"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return text + ("T" + clock if clock else "")
