"""Deterministic JPEG thumbnails for the simulator, at YouTube's names and sizes.

    jpeg = video_thumbnail("dQw4w9WgXcQ", "hqdefault", seed=7)          # 480x360 bytes
    copy = video_thumbnail("dQw4w9WgXcQ", "hq1", seed=7, alteration=1)  # a re-upload's frame

Names: default, mqdefault, hqdefault, sddefault, maxresdefault (the cover, frame 0) and
1, 2, 3 with optional mq/hq/sd prefixes (frames at a quarter, half and three quarters).
A frame is a 16:9 scene drawn from (seed, video, frame); 4:3 sizes letterbox it, as
YouTube does. A re-upload (``alteration`` > 0) shows the same scene lightly altered:
cropped a little, brightness and colour shifted, with mild noise.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance

SCENE = (640, 360)
_SIZES = {"": (120, 90), "mq": (320, 180), "hq": (480, 360), "sd": (640, 480)}
COVER_SIZES = {
    "default": (120, 90),
    "mqdefault": (320, 180),
    "hqdefault": (480, 360),
    "sddefault": (640, 480),
    "maxresdefault": (1280, 720),
}
_FRAME_NAME = re.compile(r"^(mq|hq|sd)?([123])$")
AVATAR_SIZES = {"default": 88, "medium": 240, "high": 800}


def parse_name(name: str) -> tuple[int, tuple[int, int]] | None:
    """``hq2`` -> (2, (480, 360)); ``maxresdefault`` -> (0, (1280, 720)); None if unknown."""
    if name in COVER_SIZES:
        return 0, COVER_SIZES[name]
    match = _FRAME_NAME.fullmatch(name)
    if not match:
        return None
    return int(match.group(2)), _SIZES[match.group(1) or ""]


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@lru_cache(maxsize=256)
def _scene(seed: int, source: str, frame: int) -> Image.Image:
    """The 16:9 picture of ``frame`` of video ``source``: shared palette, moving shapes."""
    palette_rng = _rng(seed, source)
    palette = [tuple(palette_rng.randrange(256) for _ in range(3)) for _ in range(6)]
    top, bottom = np.array(palette[0], float), np.array(palette[1], float)
    ramp = np.linspace(0, 1, SCENE[1])[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(SCENE[0], axis=1)
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    rng = _rng(seed, source, frame)
    for _ in range(7):
        x, y = rng.randrange(SCENE[0]), rng.randrange(SCENE[1])
        w, h = rng.randrange(40, 260), rng.randrange(30, 200)
        colour = palette[rng.randrange(2, 6)]
        box = (x - w // 2, y - h // 2, x + w // 2, y + h // 2)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    # A title bar, as many thumbnails have.
    bar_y = rng.choice([20, SCENE[1] - 80])
    draw.rectangle((30, bar_y, SCENE[0] - 30, bar_y + 60), fill=palette[5])
    return image


def _alter(image: Image.Image, seed: int, source: str, alteration: int) -> Image.Image:
    rng = _rng(seed, source, "alteration", alteration)
    w, h = image.size
    dx, dy = int(w * rng.uniform(0.01, 0.04)), int(h * rng.uniform(0.01, 0.04))
    image = image.crop((dx, dy, w - dx, h - dy)).resize((w, h), Image.Resampling.BILINEAR)
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.9, 1.1))
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.85, 1.15))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 4, (h, w, 3))
    pixels = np.clip(np.asarray(image, dtype=float) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _fit(scene: Image.Image, size: tuple[int, int]) -> Image.Image:
    width, height = size
    if width * 9 == height * 16:
        return scene.resize(size, Image.Resampling.LANCZOS)
    inner = scene.resize((width, width * 9 // 16), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", size, (0, 0, 0))
    canvas.paste(inner, (0, (height - inner.height) // 2))
    return canvas


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@lru_cache(maxsize=1024)
def video_thumbnail(source: str, name: str, *, seed: int, alteration: int = 0) -> bytes:
    """JPEG bytes of thumbnail ``name`` of video ``source``. KeyError for an unknown name."""
    parsed = parse_name(name)
    if parsed is None:
        raise KeyError(name)
    frame, size = parsed
    scene = _scene(seed, source, frame)
    if alteration:
        scene = _alter(scene, seed, source, alteration)
    return _jpeg(_fit(scene, size))


@lru_cache(maxsize=256)
def channel_avatar(channel_id: str, name: str, *, seed: int) -> bytes:
    """A square JPEG avatar for a channel (default 88, medium 240, high 800 pixels)."""
    side = AVATAR_SIZES[name]
    rng = _rng(seed, channel_id, "avatar")
    image = Image.new("RGB", (side, side), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    inset = side // 5
    draw.ellipse((inset, inset, side - inset, side - inset), fill=(245, 245, 245))
    return _jpeg(image)
