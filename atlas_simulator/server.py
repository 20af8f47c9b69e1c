"""The simulator's HTTP server: YouTube Data API v3 on 127.0.0.1, in a background thread.

    with SimulatorServer(seed=7, keys=["k1", "k2"], clock=clock) as sim:
        settings = load_settings(YOUTUBE_API_BASE_URL=sim.base_url, ...)
        sim.inject("rateLimitExceeded", times=2)      # the next two API calls fail so
        sim.faults.error_503 = 0.2                    # a fifth of API calls answer 503

Routes: ``/youtube/v3/{channels,videos,playlistItems}`` (search answers a realistic
403), ``/vi/<video>/<name>.jpg`` and ``/ch/<channel>/<name>.jpg`` thumbnails,
``GET /_sim/world`` and ``POST /hub`` (a WebSub hub for the upload feeds: ``hub.py``).
API keys arrive as ``?key=`` (google-api-python-client) or the ``X-Goog-Api-Key`` header;
each key has a daily quota per Pacific day (the clock's, not scaled by ``speed``), enforced
with YouTube's own quotaExceeded error.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from atlas_simulator.api import Api
from atlas_simulator.clock import PACIFIC, Clock, utc_now
from atlas_simulator.hub import Hub
from atlas_simulator.responses import ERRORS, Body
from atlas_simulator.story import Beat
from atlas_simulator.thumbnails import channel_avatar, video_thumbnail
from atlas_simulator.world import World

logger = logging.getLogger(__name__)

API_PREFIX = "/youtube/v3/"
COSTS = {"channels": 1, "videos": 1, "playlistItems": 1, "search": 100}
FAULT_KINDS = (
    "500",
    "503",
    "429",
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
    "keyInvalid",
    "accessNotConfigured",
    "forbidden",
    "videoNotFound",
    "slow",
    "drop",
    "malformedBody",  # 200 (charged) whose body is a JSON string, not an object
    "itemWithoutId",  # the real answer (charged) with the first item's id removed
)


@dataclass
class Faults:
    """Fractions (0..1) of API calls that fail each way, plus latency. Mutable while running."""

    error_500: float = 0.0
    error_503: float = 0.0
    too_many_requests: float = 0.0  # HTTP 429
    rate_limit: float = 0.0  # 403 rateLimitExceeded
    slow: float = 0.0  # answer only after slow_seconds
    drop: float = 0.0  # close the connection without answering
    slow_seconds: float = 2.0
    latency: float = 0.0  # every API answer waits this long (for concurrency tests)
    retry_after: float | None = None  # Retry-After header on 429s


@dataclass(frozen=True)
class RequestRecord:
    """One API call as the simulator saw it (the key as its index in the accepted list)."""

    resource: str
    path: str
    params: dict[str, str]
    status: int
    key_index: int | None
    units: int
    fault: str | None


class SimulatorServer:
    """A local YouTube. Start with ``with`` or :meth:`start`; ``base_url`` goes in settings."""

    def __init__(
        self,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        keys: list[str] | None = None,
        clock: Clock | None = None,
        speed: float = 1.0,
        faults: Faults | None = None,
        *,
        channels: int = 6,
        videos: int | None = None,
        happenings: bool = True,
        compact: bool = False,
        story: Sequence[Beat] | None = None,
        daily_quota: int | dict[str, int] = 10_000,
        disabled_keys: frozenset[str] = frozenset(),
        hub_interval: float | None = None,
    ) -> None:
        self._clock = clock or utc_now
        self.speed = speed
        self.started_at = self._clock()
        self.world = World(
            seed,
            channels=channels,
            videos=videos,
            start=self.started_at,
            happenings=happenings,
            api_keys=keys,
            compact=compact,
            story=story,
        )
        self.faults = faults or Faults()
        self._daily_quota = daily_quota
        self._disabled = disabled_keys
        self._usage: dict[tuple[int, date], int] = {}
        self._injected: deque[str] = deque()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.requests: list[RequestRecord] = []
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sim = self
        self._thread: threading.Thread | None = None
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else str(bound_host)
        self.port = int(bound_port)
        self.url = f"http://{shown}:{self.port}"
        self.base_url = self.url + API_PREFIX.rstrip("/")
        self.api = Api(self.world, self.url)
        # WebSub hub for the channels' upload feeds; pushes every hub_interval s when set.
        self.hub = Hub(self)
        self.hub_url = self.url + "/hub"
        self._hub_interval = hub_interval
        self._hub_thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<SimulatorServer {self.url} channels={len(self.world.channels)}>"

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> SimulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="youtube-simulator",
                daemon=True,
            )
            self._thread.start()
        if self._hub_interval is not None and self._hub_thread is None:
            self._hub_thread = threading.Thread(
                target=self.hub.run, args=(self._hub_interval,), name="sim-hub", daemon=True
            )
            self._hub_thread.start()
        return self

    def stop(self) -> None:
        self.hub.stop()
        if self._hub_thread is not None:
            self._hub_thread.join(timeout=5)
            self._hub_thread = None
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- knobs and readings ------------------------------------------------------------

    def now(self) -> datetime:
        """Simulated time: the start plus the clock's elapsed time times ``speed``."""
        return self.started_at + (self._clock() - self.started_at) * self.speed

    def inject(self, kind: str, times: int = 1) -> None:
        """Make the next ``times`` API calls fail as ``kind`` (one of FAULT_KINDS)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._injected.extend([kind] * times)

    def units_used(self, key_index: int | None = None) -> int:
        """Quota units charged today (Pacific), for one accepted key or all of them."""
        today = self._clock().astimezone(PACIFIC).date()
        with self._lock:
            return sum(
                units
                for (index, day), units in self._usage.items()
                if day == today and key_index in (None, index)
            )

    def world_json(self) -> dict[str, Any]:
        return self.world.to_json(self.now())

    def api_requests(self, resource: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if resource in (None, r.resource)]

    # --- request handling (called from handler threads) --------------------------------

    def _pick_fault(self) -> str | None:
        with self._lock:
            if self._injected:
                return self._injected.popleft()
            f = self.faults
            roll = self._random.random()
        for kind, share in (
            ("drop", f.drop),
            ("slow", f.slow),
            ("500", f.error_500),
            ("503", f.error_503),
            ("429", f.too_many_requests),
            ("rateLimitExceeded", f.rate_limit),
        ):
            if roll < share:
                return kind
            roll -= share
        return None

    def _limit(self, key: str) -> int:
        if isinstance(self._daily_quota, int):
            return self._daily_quota
        return self._daily_quota.get(key, 10_000)

    def handle_api(
        self, resource: str, path: str, params: dict[str, str], key: str | None
    ) -> tuple[int, Body, dict[str, str]] | None:
        """Answer one API call; None means drop the connection."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.faults.latency:
                time.sleep(self.faults.latency)
            return self._answer(resource, path, params, key)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(
        self, resource: str, path: str, params: dict[str, str], key: str | None
    ) -> tuple[int, Body, dict[str, str]] | None:
        keys = self.world.api_keys
        index = keys.index(key) if key in keys else None
        fault = label = self._pick_fault()
        headers: dict[str, str] = {}
        units = 0
        if fault == "drop":
            self._record(resource, path, params, 0, index, 0, fault)
            return None
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
            fault = None
        corrupt = fault if fault in ("malformedBody", "itemWithoutId") else None
        if corrupt:
            fault = None
        if fault is not None:
            status, body = ERRORS[fault]()
            if fault == "429" and self.faults.retry_after is not None:
                headers["Retry-After"] = f"{self.faults.retry_after:g}"
            if fault == "videoNotFound":
                units = self._charge(index, resource)
        elif key is None:
            status, body = ERRORS["forbidden"]()
        elif index is None:
            status, body = ERRORS["keyInvalid"]()
        elif key in self._disabled:
            status, body = ERRORS["accessNotConfigured"]()
        elif self._spent_today(index) + COSTS.get(resource, 1) > self._limit(key):
            status, body = ERRORS["quotaExceeded"]()
        else:
            status, body = self.api.call(resource, params, self.now())
            if status < 500 and resource in COSTS:
                units = self._charge(index, resource)
            if status == 200 and corrupt == "malformedBody":
                body = "this is not the resource you asked for"  # type: ignore[assignment]
            elif status == 200 and corrupt == "itemWithoutId" and body.get("items"):
                body["items"][0].pop("id", None)
        self._record(resource, path, params, status, index, units, label)
        return status, body, headers

    def _spent_today(self, index: int) -> int:
        with self._lock:
            return self._usage.get((index, self._clock().astimezone(PACIFIC).date()), 0)

    def _charge(self, index: int | None, resource: str) -> int:
        if index is None:
            return 0
        units = COSTS.get(resource, 1)
        day = self._clock().astimezone(PACIFIC).date()
        with self._lock:
            self._usage[(index, day)] = self._usage.get((index, day), 0) + units
        return units

    def _record(
        self,
        resource: str,
        path: str,
        params: dict[str, str],
        status: int,
        index: int | None,
        units: int,
        fault: str | None,
    ) -> None:
        safe = {k: v for k, v in params.items() if k != "key"}
        with self._lock:
            self.requests.append(RequestRecord(resource, path, safe, status, index, units, fault))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    sim: SimulatorServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are written apart: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK, ~40 ms a call on loopback (YouTube's front ends do not stall so).
    disable_nagle_algorithm = True
    server: _HTTPServer
    error_content_type = "application/json"

    def setup(self) -> None:
        super().setup()
        with self.server.sim._lock:
            self.server.sim.connections += 1

    def date_time_string(self, timestamp: float | None = None) -> str:
        # Every response's Date header, from the server's clock (an injected one in tests),
        # as YouTube's front ends stamp theirs: clients take it as the moment of observation.
        moment = self.server.sim._clock().timestamp() if timestamp is None else timestamp
        return super().date_time_string(moment)

    def log_message(self, format: str, *args: Any) -> None:
        # Never log the request line: google-api-python-client puts the key in the query.
        pass

    def do_GET(self) -> None:
        sim = self.server.sim
        parts = urlsplit(self.path)
        path = parts.path
        try:
            if path.startswith(API_PREFIX):
                query = parse_qs(parts.query, keep_blank_values=True)
                params = {k: v[0] for k, v in query.items()}
                key = self.headers.get("X-Goog-Api-Key") or params.get("key")
                result = sim.handle_api(path.removeprefix(API_PREFIX), path, params, key)
                if result is None:
                    self._drop()
                    return
                status, body, headers = result
                self._send(status, json.dumps(body).encode(), "application/json", headers)
            elif path == "/_sim/world":
                self._send(200, json.dumps(sim.world_json()).encode(), "application/json")
            elif path.startswith(("/vi/", "/ch/")) and path.endswith(".jpg"):
                self._image(path)
            else:
                status, body = ERRORS["notFound"]()
                self._send(status, json.dumps(body).encode(), "application/json")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if urlsplit(self.path).path == "/hub":
            status, text = self.server.sim.hub.handle(body)
            self._send(status, text.encode(), "text/plain")
        else:
            status, error = ERRORS["notFound"]()
            self._send(status, json.dumps(error).encode(), "application/json")

    def _image(self, path: str) -> None:
        sim = self.server.sim
        segments = path.split("/")
        if len(segments) != 4:
            self._send(404, b"not found", "text/plain")
            return
        _, folder, owner, file = segments
        name = file.removesuffix(".jpg")
        try:
            if folder == "vi":
                video = sim.world.videos[owner]
                jpeg = video_thumbnail(
                    video.frame_source, name, seed=sim.world.seed, alteration=video.alteration
                )
            else:
                sim.world.channels[owner]  # KeyError for unknown channels
                jpeg = channel_avatar(owner, name, seed=sim.world.seed)
        except KeyError:
            self._send(404, b"not found", "text/plain")
            return
        self._send(200, jpeg, "image/jpeg", {"Cache-Control": "public, max-age=7200"})

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header(
            "Content-Type",
            f"{content_type}; charset=UTF-8"
            if content_type == "application/json"
            else content_type,
        )
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
