"""The demo's script: what happens in the simulated world, and when, so that ``atlas demo``
shows every kind of alert within ten minutes at its default speed.

    world = World(7, videos=DEMO_VIDEOS, story=DEMO_STORY)   # these happenings, nothing else
    for beat in DEMO_STORY: print(real_minutes(beat.hours, speed=60), beat.shows)

Times are simulated hours after the world's start (at ``--speed 60`` one simulated hour is
one real minute). The demo refreshes statistics every ``REFRESH_EVERY_HOURS`` and looks for
new uploads every ``DISCOVER_EVERY_HOURS`` simulated hours; the beats are placed so that each
lands after what it needs: the view spike after every video has two snapshots (the velocity
check compares the last interval with the one before), the rename and the deletion after
the first snapshot, the re-upload after its original was embedded or in the same run.

``tests/test_demo_story.py`` plays this script against Atlas's pipeline with a manual clock
and checks that each beat alerts exactly once (``alert`` is the title it must produce) and
that nothing else alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atlas_simulator.world import Happening, World

REFRESH_EVERY_HOURS = 2.0
DISCOVER_EVERY_HOURS = 3.0
DEMO_SPEED = 60.0
DEMO_CHANNELS = 6
# Few enough that the first refresh embeds (and hunts among) every thumbnail in under a
# minute on a laptop; the story needs nothing more.
DEMO_VIDEOS = 48
# A view spike is a burst: this many extra views arrive at once (one refresh interval sees
# it, so it is one anomaly, whatever the interval).
SPIKE_VIEWS = 100_000


@dataclass(frozen=True)
class Beat:
    """One scripted happening. ``alert`` is the title of the alert Atlas must send for it
    (None: it must not alert); ``shows`` says what a user sees, for the demo's banner."""

    hours: float
    kind: str  # upload | reupload | channel_renamed | video_deleted | view_spike
    shows: str
    alert: str | None = None


DEMO_STORY: tuple[Beat, ...] = (
    Beat(1.0, "upload", "no alert (nothing suspicious)"),
    Beat(
        1.5,
        "reupload",
        "HUNT alert 'Possible re-upload' naming the original, with side-by-side evidence",
        "Possible re-upload",
    ),
    Beat(2.5, "upload", "no alert (not a copy of anything)"),
    Beat(3.0, "channel_renamed", "SURVEILLANCE alert 'Channel renamed'", "Channel renamed"),
    Beat(4.0, "video_deleted", "SURVEILLANCE alert 'Videos disappeared'", "Videos disappeared"),
    Beat(
        5.5, "view_spike", "SURVEILLANCE alert 'Views velocity anomaly'", "Views velocity anomaly"
    ),
)


def real_minutes(hours: float, speed: float = DEMO_SPEED) -> float:
    """Real minutes after the simulator's start at which simulated ``hours`` come."""
    return hours * 60.0 / speed


def every_minutes(hours: float, speed: float = DEMO_SPEED) -> int:
    """A cadence of ``hours`` simulated hours in whole real minutes, for cron: at least 2, so
    that a refresh (up to a minute and a half on a small machine) ends before the next
    starts; queued runs fetch later than their tick says, which skews the velocity check."""
    return max(2, round(hours * 60.0 / speed))


def narrate(world: World, happening: Happening) -> str:
    """One happening of ``world`` in words: who does what."""
    channel = world.channels[happening.channel_id]
    video = happening.video_id
    if happening.kind == "reupload" and video:
        original = world.videos[world.videos[video].frames_of or video]
        source = world.channels[original.channel_id].title
        return (
            f"{channel.title} re-uploads {source}'s video {original.id} as {video} "
            "(cropped, mirrored, recoloured, re-encoded)"
        )
    if happening.kind == "channel_renamed":
        return f"{channel.title} renames itself {happening.detail!r}"
    if happening.kind == "video_deleted":
        return f"{channel.title} deletes its video {video}"
    if happening.kind == "view_spike":
        return f"{channel.title}'s video {video} gets {SPIKE_VIEWS:,} views at once"
    if happening.kind == "upload":
        return f"{channel.title} uploads a new video {video}"
    return f"{happening.kind} {video or happening.channel_id} {happening.detail}".strip()
