"""Images for the vision tests, drawn here (no files, no downloads)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def scene(seed: int, size: tuple[int, int] = (640, 360)) -> Image.Image:
    """A busy 'photo': random coloured shapes over smooth noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    noise = rng.normal(0, 1, (h // 8, w // 8, 3))
    base = Image.fromarray(np.clip(128 + 40 * noise, 0, 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC
    )
    d = ImageDraw.Draw(base)
    for _ in range(40):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        s = int(rng.integers(10, 60))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.integers(0, 2):
            d.ellipse((x, y, x + s, y + s), fill=colour, outline=(0, 0, 0), width=2)
        else:
            d.rectangle((x, y, x + s, y + s // 2), fill=colour)
    return base


def template(title: str, size: tuple[int, int] = (640, 360)) -> Image.Image:
    """A thumbnail template: gradient, a face, a big outlined title."""
    w, h = size
    t = np.linspace(0, 1, w)[None, :, None]
    bg = (np.array([30, 90, 200]) * (1 - t) + np.array([240, 200, 40]) * t) * np.ones((h, 1, 1))
    img = Image.fromarray(bg.astype(np.uint8))
    d = ImageDraw.Draw(img)
    d.ellipse((440, 150, 600, 310), fill=(230, 190, 150), outline=(0, 0, 0), width=4)
    d.ellipse((480, 200, 500, 220), fill="black")
    d.ellipse((540, 200, 560, 220), fill="black")
    d.ellipse((500, 250, 540, 290), fill="black")
    font = ImageFont.load_default(size=60)
    for i, line in enumerate(title.split("\n")):
        d.text(
            (20, 40 + 75 * i), line, font=font, fill="white", stroke_width=5, stroke_fill="black"
        )
    return img


def letterbox(img: Image.Image) -> Image.Image:
    """YouTube's 4:3 hqdefault: the 16:9 frame at 480x270 between black bars."""
    out = Image.new("RGB", (480, 360), (0, 0, 0))
    out.paste(img.resize((480, 270), Image.Resampling.BILINEAR), (0, 45))
    return out
