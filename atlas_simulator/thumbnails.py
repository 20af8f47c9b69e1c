"""Deterministic JPEG thumbnails for the simulator, at YouTube's names and sizes.

    jpeg = video_thumbnail("dQw4w9WgXcQ", "hqdefault", seed=7)          # 480x360 bytes
    copy = video_thumbnail("dQw4w9WgXcQ", "hq1", seed=7, alteration=1)  # a re-upload's frame

Names: default, mqdefault, hqdefault, sddefault, maxresdefault (the cover, frame 0) and
1, 2, 3 with optional mq/hq/sd prefixes (frames at a quarter, half and three quarters).
A frame is a 16:9 scene drawn from (seed, video, frame); 4:3 sizes letterbox it, as
YouTube does. A re-upload (``alteration`` > 0) shows the same scene with ordinary edits:
cropped and mirrored, or bordered, rotated and branded; colours shifted; re-encoded.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

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


_WORDS = (
    "EPIC BEST NEW HOW WHY TOP FAST REAL LAST FIRST HUGE TINY SECRET GUIDE FINAL LIVE "
    "WIN FAIL BUILD CRAZY"
).split()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=256)
def _scene(seed: int, source: str, frame: int) -> Image.Image:
    """The 16:9 picture of ``frame`` of video ``source``: its own palette, shapes, a textured
    subject and a title in big letters, as YouTube thumbnails have."""
    palette_rng = _rng(seed, source)
    palette = [tuple(palette_rng.randrange(256) for _ in range(3)) for _ in range(6)]
    top, bottom = np.array(palette[0], float), np.array(palette[1], float)
    ramp = np.linspace(0, 1, SCENE[1])[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(SCENE[0], axis=1)
    rng = _rng(seed, source, frame)
    texture = np.random.default_rng(rng.randrange(2**32)).normal(0, 10, (SCENE[1], SCENE[0], 1))
    image = Image.fromarray(np.clip(pixels + texture, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(9):
        x, y = rng.randrange(SCENE[0]), rng.randrange(SCENE[1])
        w, h = rng.randrange(30, 220), rng.randrange(30, 180)
        colour = palette[rng.randrange(2, 6)]
        box = (x - w // 2, y - h // 2, x + w // 2, y + h // 2)
        kind = rng.random()
        if kind < 0.4:
            draw.ellipse(box, fill=colour, outline=palette[rng.randrange(6)], width=3)
        elif kind < 0.8:
            draw.rectangle(box, fill=colour)
        else:
            points = [(rng.randrange(SCENE[0]), rng.randrange(SCENE[1])) for _ in range(3)]
            draw.polygon(points, fill=colour)
    # A title in big letters on a bar, as many thumbnails have.
    bar_y = rng.choice([16, SCENE[1] - 96])
    draw.rectangle((24, bar_y, SCENE[0] - 24, bar_y + 80), fill=palette[5])
    title = " ".join(rng.sample(_WORDS, k=2)) + f" #{rng.randrange(1, 99)}"
    ink = (255, 255, 255) if sum(palette[5]) < 384 else (10, 10, 10)
    draw.text((40, bar_y + 8), title, font=_font(60), fill=ink)
    return image


def _reencode(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def _alter(image: Image.Image, seed: int, source: str, alteration: int) -> Image.Image:
    """A re-upload's frame: the ordinary edits of someone passing a video off as theirs.
    Odd alterations crop and mirror; even ones add a border, a slight rotation and the
    uploader's logo; all shift the colours and re-encode at low quality."""
    rng = _rng(seed, source, "alteration", alteration)
    w, h = image.size
    if alteration % 2:
        dx, dy = int(w * rng.uniform(0.05, 0.1)), int(h * rng.uniform(0.05, 0.1))
        image = image.crop((dx, dy, w - dx, h - dy)).resize((w, h), Image.Resampling.BILINEAR)
        image = ImageOps.mirror(image)
    else:
        pad = int(w * rng.uniform(0.03, 0.06))
        image = ImageOps.expand(image, border=pad, fill=(20, 20, 20)).resize((w, h))
        image = image.rotate(
            rng.uniform(2, 4), resample=Image.Resampling.BILINEAR, fillcolor=(20, 20, 20)
        )
        draw = ImageDraw.Draw(image)
        x, y = w - 150, 20
        draw.rounded_rectangle((x, y, x + 130, y + 50), radius=10, fill=(230, 30, 30))
        draw.text((x + 12, y + 8), "NEW!", font=_font(30), fill=(255, 255, 255))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.88, 1.12))
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.8, 1.2))
    return _reencode(image, rng.randrange(20, 40))


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
