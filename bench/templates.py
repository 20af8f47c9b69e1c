"""Procedural YouTube-style thumbnails that share a design: the hard negatives of the hunt.

    groups = template_groups(rng, "same_background", count=10)   # [[img, img, img], ...]

Every image of a group is a *different* video: the images share a designed background
(gradient, rays, blobs, halftone, a stock photo), a layout (subject and title positions) or
a palette, and differ in their title (and, by kind, in palette, subject or decoration). Text
is rendered with the system's TrueType fonts in different sizes, strokes and positions: the
same seed draws other thumbnails where other fonts are installed (``fonts_in_use`` says which).

Kinds:
- ``same_background``: one background, subject and decoration; only the title differs
  (same font and place: a channel's template), sometimes its size or line breaks too.
- ``same_layout_palette``: one layout (subject, shapes, title place), another palette per
  video, another title; the host's subject cut-out stays the same.
- ``stock_background``: one stock photo behind each image (other channels using the same
  stock image), each with its own title, font, subject and decoration.

``edit_overlays``: the overlays a re-uploader adds (a "FULL VIDEO" caption, an emoji, a
logo) for positives built from these designs.
"""

from __future__ import annotations

import glob
import hashlib
import os
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

W, H = 640, 360
KINDS = ("same_background", "same_layout_palette", "stock_background")
STOCK = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "coins.png",
    "camera.png",
    "page.png",
    "retina.jpg",
    "brick.png",
    "gravel.png",
    "grass.png",
    "ihc.png",
    "moon.png",
]
WORDS = (
    "EPIC BEST NEW HOW WHY TOP FAST REAL LAST FIRST HUGE TINY SECRET GUIDE FINAL LIVE WIN "
    "FAIL BUILD CRAZY I TRIED 24 HOURS IN THE WORLD'S MOST DANGEROUS CHEAP VS EXPENSIVE "
    "REVIEW UNBOXING PART 2 3 10 100 $1 MILLION DAYS SURVIVING ONLY MINECRAFT GTA TESLA "
    "IPHONE RECIPE EASY PRO NOOB TRUTH ABOUT"
).split()


@lru_cache(maxsize=1)
def fonts() -> list[str]:
    found = sorted(glob.glob("/usr/share/fonts/truetype/**/*.ttf", recursive=True))
    return [f for f in found if "Math" not in f]


def fonts_in_use() -> str:
    """The fonts the titles are drawn in, for a run's header: the same seed draws another set
    of thumbnails where other fonts are installed (Chromium's packages bring Liberation)."""
    paths = fonts()
    if not paths:
        return "fonts: none under /usr/share/fonts/truetype (PIL's default font)"
    families = sorted({os.path.basename(os.path.dirname(p)) for p in paths})
    digest = hashlib.sha256("\n".join(os.path.basename(p) for p in paths).encode()).hexdigest()
    return f"fonts: {len(paths)} files ({', '.join(families)}), names sha256 {digest[:12]}"


@lru_cache(maxsize=512)
def font(index: int, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    paths = fonts()
    if not paths:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(paths[index % len(paths)], size)


@lru_cache(maxsize=32)
def stock(name: str) -> Image.Image:
    import skimage

    folder = os.path.join(os.path.dirname(skimage.__file__), "data")
    with Image.open(os.path.join(folder, name)) as img:
        return img.convert("RGB").copy()


def colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(lo, hi, 3))
    return r, g, b


def palette(rng: np.random.Generator) -> list[tuple[int, int, int]]:
    return [colour(rng) for _ in range(6)]


def title_text(rng: np.random.Generator) -> str:
    n = int(rng.integers(2, 6))
    text = " ".join(str(w) for w in rng.choice(WORDS, size=n))
    if n >= 4 and rng.random() < 0.6:
        cut = n // 2
        parts = text.split(" ")
        text = " ".join(parts[:cut]) + "\n" + " ".join(parts[cut:])
    return text


def background(rng: np.random.Generator, pal: list[tuple[int, int, int]]) -> Image.Image:
    kind = int(rng.integers(0, 7))
    c1, c2 = np.array(pal[0], float), np.array(pal[1], float)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if kind == 0:  # linear gradient at an angle
        a = rng.uniform(0, np.pi)
        t = (np.cos(a) * xx / W + np.sin(a) * yy / H + 1) / 2
    elif kind == 1:  # radial
        cx, cy = rng.uniform(0.2, 0.8) * W, rng.uniform(0.2, 0.8) * H
        t = np.clip(np.hypot(xx - cx, yy - cy) / (0.8 * W), 0, 1)
    elif kind == 2:  # sun rays
        cx, cy = rng.uniform(0.3, 0.7) * W, rng.uniform(0.3, 0.7) * H
        rays = int(rng.integers(8, 20))
        t = (np.sin(rays * np.arctan2(yy - cy, xx - cx)) > 0).astype(np.float32)
        t = np.asarray(
            Image.fromarray((t * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.5)),
            np.float32,
        )
        t = t / 255.0
    elif kind == 3:  # soft blobs
        small = rng.random((6, 10)).astype(np.float32)
        t = np.asarray(
            Image.fromarray((small * 255).astype(np.uint8)).resize(
                (W, H), Image.Resampling.BICUBIC
            ),
            np.float32,
        )
        t = t / 255.0
    elif kind == 5:  # two panels split by a slanted edge
        x0 = rng.uniform(0.3, 0.7) * W
        slope = rng.uniform(-0.6, 0.6)
        t = (xx > x0 + slope * (yy - H / 2)).astype(np.float32)
    elif kind == 6:  # diagonal stripes
        step = float(rng.integers(24, 60))
        t = ((xx + yy * rng.uniform(-1, 1)) % step < step / 2).astype(np.float32) * 0.6 + 0.2
    else:  # halftone dots over a gradient
        step = int(rng.integers(14, 28))
        dots = ((xx % step - step / 2) ** 2 + (yy % step - step / 2) ** 2) < (step / 3.2) ** 2
        t = 0.7 * dots.astype(np.float32) + 0.3 * xx / W
    pixels = c1 * (1 - t[..., None]) + c2 * t[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def stock_background(rng: np.random.Generator) -> Image.Image:
    img = stock(str(rng.choice(STOCK)))
    w, h = img.size
    scale = rng.uniform(0.6, 1.0)
    cw = int(min(w, h * 16 / 9) * scale)
    ch = int(cw * 9 / 16)
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return img.crop((x, y, x + cw, y + ch)).resize((W, H), Image.Resampling.LANCZOS)


def subject(rng: np.random.Generator) -> Image.Image:
    """A host's cut-out: a face-like figure with an outline, on a transparent layer."""
    r = int(rng.integers(60, 110))
    layer = Image.new("RGBA", (2 * r + 20, 2 * r + 60), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    skin = colour(rng, 110, 240)
    cx, cy = r + 10, r + 10
    d.rectangle((cx - r // 2, cy + r - 10, cx + r // 2, cy + r + 50), fill=colour(rng))
    d.ellipse((10, 10, 10 + 2 * r, 10 + 2 * r), fill=skin, outline=(0, 0, 0), width=5)
    hair = colour(rng, 0, 120)
    d.chord((10, 0, 10 + 2 * r, 2 * r - 20), 180, 360, fill=hair)
    for ex in (-r // 3, r // 3):
        er = int(rng.integers(8, 18))
        ey = cy - r // 6
        d.ellipse((cx + ex - er, ey - er, cx + ex + er, ey + er), fill="white", outline="black")
        d.ellipse((cx + ex - 5, ey - 5, cx + ex + 5, ey + 5), fill="black")
    mw = int(rng.integers(r // 4, r // 2))
    d.ellipse((cx - mw, cy + r // 4, cx + mw, cy + r // 2 + int(rng.integers(5, 25))), fill="black")
    return layer


class Design:
    """A channel's template: where things go and how the title is drawn."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.face_left = bool(rng.integers(0, 2))
        self.subject_at = (
            int(W * (0.05 if self.face_left else 0.62) + rng.integers(-20, 20)),
            int(H * rng.uniform(0.25, 0.45)),
        )
        self.font = int(rng.integers(0, 1000))
        self.size = int(rng.integers(34, 66))
        self.stroke = int(rng.integers(0, 6))
        if rng.random() < 0.25:  # a title along the bottom, across the frame
            self.title_at = (int(W * rng.uniform(0.03, 0.2)), int(H * rng.uniform(0.6, 0.75)))
        else:
            self.title_at = (
                int(W * (0.45 if self.face_left else 0.04) + rng.integers(-10, 10)),
                int(H * rng.uniform(0.05, 0.55)),
            )
        self.case = str(rng.choice(["upper", "upper", "title", "lower"]))
        self.bar = rng.random() < 0.35
        self.shapes = [
            (
                int(rng.integers(0, W)),
                int(rng.integers(0, H)),
                int(rng.integers(20, 70)),
                int(rng.integers(0, 3)),
                int(rng.integers(2, 6)),
            )
            for _ in range(int(rng.integers(1, 5)))
        ]
        self.frame = rng.random() < 0.3

    def jitter_title(self, rng: np.random.Generator) -> None:
        """The same template, this video's title in another size and place."""
        self.size = int(np.clip(self.size + rng.integers(-10, 11), 30, 70))
        x, y = self.title_at
        self.title_at = (x + int(rng.integers(-20, 21)), y + int(rng.integers(-25, 26)))


def render(
    base: Image.Image,
    design: Design,
    pal: list[tuple[int, int, int]],
    title: str,
    face: Image.Image | None,
) -> Image.Image:
    img = base.copy()
    d = ImageDraw.Draw(img)
    if design.case == "title":
        title = title.title()
    elif design.case == "lower":
        title = title.lower()
    for x, y, s, kind, ci in design.shapes:
        fill = pal[ci]
        if kind == 0:
            d.rectangle((x, y, x + s, y + s // 2), fill=fill, outline=(0, 0, 0), width=3)
        elif kind == 1:
            d.ellipse((x, y, x + s, y + s), fill=fill, outline=(0, 0, 0), width=3)
        else:
            d.polygon([(x, y), (x + s, y + s // 2), (x, y + s)], fill=fill, outline=(0, 0, 0))
    if design.frame:
        d.rectangle((6, 6, W - 7, H - 7), outline=pal[4], width=8)
    if face is not None:
        img.paste(face, design.subject_at, face)
    x, y = design.title_at
    size = design.size
    if "\n" not in title and len(title) > 14:
        words = title.split(" ")
        title = " ".join(words[: len(words) // 2]) + "\n" + " ".join(words[len(words) // 2 :])
    f = font(design.font, size)
    while size > 22 and d.multiline_textbbox((x, y), title, font=f)[2] > W - 8:
        size -= 4
        f = font(design.font, size)
    ink = pal[5] if sum(pal[5]) > 300 else (255, 255, 255)
    if design.bar:
        box = d.multiline_textbbox((x, y), title, font=f, stroke_width=design.stroke)
        d.rectangle((box[0] - 10, box[1] - 6, box[2] + 10, box[3] + 6), fill=pal[2])
    d.multiline_text(
        (x, y), title, font=f, fill=ink, stroke_width=design.stroke, stroke_fill=(0, 0, 0)
    )
    return img


# Two members of a group must look different to a person: their titles must show. A title
# drawn in nearly its background's colour leaves two identical images, which no decision
# could call different; such a group is drawn again.
MIN_VISIBLE = 0.005  # share of pixels whose grey differs by more than 40


def visibly_different(images: list[Image.Image]) -> bool:
    greys = [np.asarray(img.convert("L"), np.int16) for img in images]
    return all(
        float((np.abs(greys[i] - greys[j]) > 40).mean()) >= MIN_VISIBLE
        for i in range(len(greys))
        for j in range(i + 1, len(greys))
    )


def template_group(rng: np.random.Generator, kind: str, members: int = 3) -> list[Image.Image]:
    """``members`` thumbnails of different videos that share a design of ``kind``, visibly
    different from each other."""
    for _ in range(20):
        group = _group(rng, kind, members)
        if visibly_different(group):
            return group
    return group


def _group(rng: np.random.Generator, kind: str, members: int) -> list[Image.Image]:
    design = Design(rng)
    pal = palette(rng)
    if kind == "same_background":
        base = background(rng, pal)
        face = subject(rng) if rng.random() < 0.7 else None
        out = []
        for _ in range(members):
            if rng.random() < 0.3:
                design.jitter_title(rng)
            out.append(render(base, design, pal, title_text(rng), face))
        return out
    if kind == "same_layout_palette":
        face = subject(rng)
        seed = int(rng.integers(0, 2**31))
        out = []
        for _ in range(members):
            own = palette(rng)
            # the same background geometry in this video's colours
            base = background(np.random.default_rng(seed), own)
            out.append(render(base, design, own, title_text(rng), face))
        return out
    if kind == "stock_background":
        base = stock_background(rng)
        out = []
        for _ in range(members):
            own = Design(rng)
            face = subject(rng) if rng.random() < 0.5 else None
            out.append(render(base, own, palette(rng), title_text(rng), face))
        return out
    raise ValueError(f"unknown template kind {kind!r}; expected one of {KINDS}")


def template_base(rng: np.random.Generator) -> Image.Image:
    """One designed thumbnail (a positive's base)."""
    pal = palette(rng)
    base = stock_background(rng) if rng.random() < 0.3 else background(rng, pal)
    face = subject(rng) if rng.random() < 0.7 else None
    return render(base, Design(rng), pal, title_text(rng), face)


def e_full_video(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """A re-uploader's caption: "FULL VIDEO" (or alike) in big letters on a band."""
    img = img.copy()
    d = ImageDraw.Draw(img)
    w, h = img.size
    text = str(rng.choice(["FULL VIDEO", "FULL MOVIE", "HD 1080p", "NEW 2026", "REUPLOAD"]))
    f = font(int(rng.integers(0, 1000)), int(h * rng.uniform(0.08, 0.12)))
    y = int(h * (0.84 if rng.random() < 0.5 else 0.03))
    x = int(w * rng.uniform(0.02, 0.5))
    box = d.textbbox((x, y), text, font=f, stroke_width=2)
    if rng.random() < 0.5:
        d.rectangle((box[0] - 6, box[1] - 4, box[2] + 6, box[3] + 4), fill=(200, 0, 0))
    d.text((x, y), text, font=f, fill=(255, 255, 0), stroke_width=2, stroke_fill=(0, 0, 0))
    return img


def e_emoji(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """A big emoji-like sticker (a yellow face, a red arrow or a fire blob) in a corner."""
    img = img.copy()
    d = ImageDraw.Draw(img)
    w, h = img.size
    s = int(h * rng.uniform(0.15, 0.25))
    x = int(rng.choice([8, w - s - 8]))
    y = int(rng.choice([8, h - s - 8]))
    if rng.random() < 0.5:
        d.ellipse((x, y, x + s, y + s), fill=(255, 210, 0), outline=(120, 70, 0), width=3)
        e = s // 8
        d.ellipse((x + 2 * e, y + 2 * e, x + 3 * e, y + 4 * e), fill="black")
        d.ellipse((x + 5 * e, y + 2 * e, x + 6 * e, y + 4 * e), fill="black")
        d.arc((x + 2 * e, y + 3 * e, x + 6 * e, y + 7 * e), 20, 160, fill="black", width=4)
    else:
        pts = [(x, y + s // 3), (x + s // 2, y + s // 3), (x + s // 2, y), (x + s, y + s // 2)]
        pts += [(x + s // 2, y + s), (x + s // 2, y + 2 * s // 3), (x, y + 2 * s // 3)]
        d.polygon(pts, fill=(230, 20, 20), outline=(255, 255, 255))
    return img


def e_hue(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """Recolouring: the hue turned by 20-60 degrees."""
    hsv = np.asarray(img.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.integers(14, 43))) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")
