"""Fetching thumbnails from a real HTTP server on 127.0.0.1: a body is never read past its
cap, whether it declares its length or streams without one; an image too large to decode is
refused from its header."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from atlas_simulator.background import BackgroundServer
from PIL import Image
from vision_images import jpeg

from atlas_core.vision.frames import MAX_FRAME_BYTES, fetch_frames_checked
from atlas_core.vision.preprocess import MAX_PIXELS, decode

CAP = 64 * 1024
CHUNK = 64 * 1024
FLOOD = 64 * 1024 * 1024  # what the streaming answer would send if it were read to the end


def small_jpeg() -> bytes:
    return jpeg(Image.new("RGB", (64, 36), (200, 40, 40)))


class Thumbnails(BackgroundServer):
    """maxresdefault.jpg a small JPEG; 1.jpg declares a body over the cap; 2.jpg streams
    without a length (chunked) until the client stops reading; 3.jpg is gone (404)."""

    def __init__(self) -> None:
        self.streamed = 0  # bytes 2.jpg got out before the client hung up
        self.done = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                if name == "maxresdefault.jpg":
                    body = small_jpeg()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif name == "1.jpg":
                    self.send_response(200)
                    self.send_header("Content-Length", str(CAP + 1))
                    self.end_headers()
                    self.wfile.write(b"\xff" * (CAP + 1))
                elif name == "2.jpg":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        while owner.streamed < FLOOD:
                            self.wfile.write(b"%x\r\n" % CHUNK + b"\0" * CHUNK + b"\r\n")
                            owner.streamed += CHUNK
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        pass  # the client hung up: what it was sent is counted
                    finally:
                        owner.done.set()
                        self.close_connection = True
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), Handler), name="thumbnails")


@pytest.fixture
def thumbnails() -> Iterator[Thumbnails]:
    with Thumbnails() as server:
        yield server


async def test_frames_over_the_cap_are_dropped_unread_and_named(thumbnails: Thumbnails) -> None:
    urls = {"maxres": f"{thumbnails.address}/vi/abc/maxresdefault.jpg"}
    async with httpx.AsyncClient(timeout=10) as http:
        frames, failures = await fetch_frames_checked(http, urls, compliance=False, max_bytes=CAP)
    assert frames == [(0, small_jpeg())]
    by_index = {f.index: f for f in failures}
    assert sorted(by_index) == [1, 2, 3]
    assert by_index[1].error == f"larger than {CAP} bytes" and not by_index[1].gone
    assert by_index[2].error == f"larger than {CAP} bytes" and not by_index[2].gone
    assert by_index[3].status == 404 and by_index[3].gone
    # The stream was dropped near the cap: the server could not send all it had.
    assert thumbnails.done.wait(10)
    assert thumbnails.streamed < FLOOD // 2


async def test_the_default_cap_passes_a_real_thumbnail(thumbnails: Thumbnails) -> None:
    assert MAX_FRAME_BYTES >= 1024 * 1024  # a maxresdefault.jpg is a few hundred kB
    urls = {"high": f"{thumbnails.address}/vi/abc/maxresdefault.jpg"}
    async with httpx.AsyncClient(timeout=10) as http:
        frames, failures = await fetch_frames_checked(http, urls, compliance=True)
    assert frames == [(0, small_jpeg())] and failures == []


def test_an_image_too_large_is_refused_from_its_header() -> None:
    side = int(MAX_PIXELS**0.5) + 1
    out = io.BytesIO()
    Image.new("L", (side, side)).save(out, "PNG")  # small on the wire, huge decoded
    with pytest.raises(ValueError, match=rf"image of {side}x{side} pixels is larger than"):
        decode(out.getvalue())
    decode(small_jpeg())  # a thumbnail decodes
