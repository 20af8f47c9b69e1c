"""The simulator as a WebSub hub for YouTube's upload feeds (what pubsubhubbub.appspot.com
does for the real YouTube), so push notifications can be tested on 127.0.0.1.

    sim = SimulatorServer(..., hub_interval=0.2)   # pushes new uploads every 0.2 s
    settings = load_settings(WEBSUB_HUB_URL=sim.hub_url, WEBSUB_CALLBACK_URL=..., ...)
    sim.hub.settle()            # wait for pending verifications of the callback
    sim.hub.deliver()           # push what was published since the last delivery, now

A subscribe/unsubscribe POST is answered 202; the hub then verifies the intent with a GET to
the callback (``hub.challenge`` must come back; the request's ``hub.verify_token`` is echoed,
as Google's PubSubHubbub 0.3 hub does) before it (un)subscribes. Each notification
is an Atom feed like YouTube's (``yt:videoId``, ``yt:channelId``; removals as
``at:deleted-entry``), signed ``X-Hub-Signature: sha1=<HMAC>`` with the subscriber's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.sax.saxutils import escape, quoteattr

from atlas_simulator.world import SimVideo, rfc3339

if TYPE_CHECKING:
    from atlas_simulator.server import SimulatorServer

TOPIC = "https://www.youtube.com/xml/feeds/videos.xml?channel_id="


@dataclass
class Subscription:
    topic: str
    channel_id: str
    callback: str
    secret: str | None
    lease_seconds: int
    since: datetime  # pushes cover what happened after this moment
    verify_token: str | None = None  # echoed in the verification (PubSubHubbub 0.3)


@dataclass
class Hub:
    sim: SimulatorServer
    subscriptions: dict[tuple[str, str], Subscription] = field(default_factory=dict)
    verifications: list[tuple[str, str, int]] = field(default_factory=list)  # mode, topic, status
    notifications: list[tuple[str, int]] = field(default_factory=list)  # (channel id, status)
    grant_lease: str | None = None  # the hub.lease_seconds it verifies with (else as asked)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    # --- subscribe / unsubscribe -------------------------------------------------------

    def handle(self, body: bytes) -> tuple[int, str]:
        """A subscriber's form POST: (status, text). 202 then verification, as a real hub."""
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        mode, topic, callback = (form.get(f"hub.{k}", "") for k in ("mode", "topic", "callback"))
        if mode not in ("subscribe", "unsubscribe"):
            return 400, "hub.mode must be subscribe or unsubscribe"
        if not topic.startswith(TOPIC) or not callback.startswith(("http://", "https://")):
            return 400, "expected a YouTube uploads-feed hub.topic and an http(s) hub.callback"
        channel_id = topic.removeprefix(TOPIC)
        if channel_id not in self.sim.world.channels:
            return 400, f"unknown topic {topic}"
        lease = int(form.get("hub.lease_seconds") or 432_000)
        secret = form.get("hub.secret")
        token = form.get("hub.verify_token")
        sub = Subscription(topic, channel_id, callback, secret, lease, self.sim.now(), token)
        thread = threading.Thread(target=self._verify, args=(mode, sub), daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()
        return 202, ""

    def _verify(self, mode: str, sub: Subscription) -> None:
        challenge = secrets.token_hex(8)
        params: dict[str, object] = {
            "hub.mode": mode,
            "hub.topic": sub.topic,
            "hub.challenge": challenge,
            "hub.lease_seconds": self.grant_lease or sub.lease_seconds,
        }
        if sub.verify_token is not None:
            params["hub.verify_token"] = sub.verify_token
        query = urlencode(params)
        separator = "&" if urlsplit(sub.callback).query else "?"
        try:
            with urllib.request.urlopen(sub.callback + separator + query, timeout=10) as answer:
                status, text = answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, ""
        except OSError:
            status, text = 0, ""
        confirmed = 200 <= status < 300 and text == challenge
        with self._lock:
            self.verifications.append((mode, sub.topic, status if confirmed else -abs(status)))
            if confirmed and mode == "subscribe":
                self.subscriptions[(sub.topic, sub.callback)] = sub
            elif confirmed:
                self.subscriptions.pop((sub.topic, sub.callback), None)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every verification started so far has finished."""
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout)

    # --- notifications -----------------------------------------------------------------

    def deliver(self) -> int:
        """Push every upload (and removal) since each subscription's last push; returns how
        many notifications were sent."""
        now = self.sim.now()
        with self._lock:
            subs = list(self.subscriptions.values())
        sent = 0
        world = self.sim.world
        for sub in subs:
            uploads = []
            for video in world.visible_videos(sub.channel_id, now):  # newest first
                if video.published_at <= sub.since:
                    break
                uploads.append(video)
            removed = (
                []
                if world.compact
                else [  # a compact world's videos are never deleted
                    world.videos[v]
                    for v in world.channels[sub.channel_id].video_ids
                    if sub.since < (world.videos[v].deleted_at or sub.since) <= now
                ]
            )
            sub.since = now
            if uploads or removed:
                self._post(sub, _feed(sub, uploads, removed, now))
                sent += 1
        return sent

    def _post(self, sub: Subscription, body: bytes) -> None:
        headers = {"Content-Type": "application/atom+xml"}
        if sub.secret:
            digest = hmac.new(sub.secret.encode(), body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = "sha1=" + digest
        request = urllib.request.Request(sub.callback, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        with self._lock:
            self.notifications.append((sub.channel_id, status))

    def run(self, interval: float) -> None:
        """Deliver every ``interval`` seconds until :meth:`stop` (the server's hub thread)."""
        while not self._stop.wait(interval):
            self.deliver()

    def stop(self) -> None:
        self._stop.set()


def _feed(
    sub: Subscription, uploads: list[SimVideo], removed: list[SimVideo], now: datetime
) -> bytes:
    channel = sub.channel_id
    entries = []
    for video in uploads:
        entries.append(
            "<entry>"
            f"<id>yt:video:{video.id}</id>"
            f"<yt:videoId>{video.id}</yt:videoId>"
            f"<yt:channelId>{channel}</yt:channelId>"
            f"<title>{escape(video.title)}</title>"
            f'<link rel="alternate" href="https://www.youtube.com/watch?v={video.id}"/>'
            f"<author><name>{escape(channel)}</name>"
            f"<uri>https://www.youtube.com/channel/{channel}</uri></author>"
            f"<published>{rfc3339(video.published_at)}</published>"
            f"<updated>{rfc3339(now)}</updated>"
            "</entry>"
        )
    for video in removed:
        entries.append(
            f"<at:deleted-entry ref={quoteattr('yt:video:' + video.id)} "
            f"when={quoteattr(rfc3339(video.deleted_at or now))}>"
            f'<link href="https://www.youtube.com/watch?v={video.id}"/>'
            f"<at:by><name>{escape(channel)}</name>"
            f"<uri>https://www.youtube.com/channel/{channel}</uri></at:by>"
            "</at:deleted-entry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
        'xmlns:at="http://purl.org/atompub/tombstones/1.0" '
        'xmlns="http://www.w3.org/2005/Atom">'
        '<link rel="hub" href="https://pubsubhubbub.appspot.com"/>'
        f'<link rel="self" href={quoteattr(sub.topic)}/>'
        "<title>YouTube video feed</title>"
        f"<updated>{rfc3339(now)}</updated>" + "".join(entries) + "</feed>"
    ).encode()
