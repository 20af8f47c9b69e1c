"""``compare`` on edits outside ``bench/reupload.py``'s set: how far its decision generalises.

    python bench/variants.py                    # 40 designs, 6 thumbnails, 4 photos
    python bench/variants.py --designs 120 --only greyscale,sepia

``compare`` was tuned on ``bench/reupload.py``'s edits (``EDITS``: their kinds, sizes and
places). Here each original (designs of ``bench/templates.py`` and thumbnails drawn with a seed
no tuning run used, and photos ``bench/reupload.py`` does not load) gets variants of those
edits it was not tuned on: overlays bigger, elsewhere and in other colours, a crop from one
corner, a turn that keeps its corners, stronger blur, colour and JPEG, sharpening, grey and
sepia; each saved as JPEG q85 and compared with the original (JPEG q92) alone, without the
hunt's look-alikes. Per edit: the copies found and the reasons of the misses (``--explain``).
Copies only: template negatives are ``bench/reupload.py``'s. Last line:
``variants_found=<n>/<m> weakest=<edit>:<share> photos=<a>/<b>``.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import reupload
import skimage
import templates as tpl
from PIL import Image, ImageDraw, ImageFilter

from atlas_core.vision.compare import Frame, compare_frames

Edit = Callable[[np.random.Generator, Image.Image], Image.Image]
SEED = 4242  # no tuning run drew with it
PHOTOS = ["color.png", "motorcycle_right.png", "chessboard_RGB.png", "horse.png"]


def _text(img: Image.Image, xy: tuple[int, int], text: str, size: int, fill: tuple) -> Image.Image:
    img = img.copy()
    ImageDraw.Draw(img).text(
        xy, text, font=reupload.font(size), fill=fill, stroke_width=3, stroke_fill="black"
    )
    return img


def caption_big(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """Two words 11-16% of the height tall, anywhere, in any colour."""
    w, h = img.size
    xy = (int(w * rng.uniform(0.02, 0.3)), int(h * rng.uniform(0.02, 0.85)))
    fill = tuple(int(v) for v in rng.integers(0, 256, 3))
    return _text(img, xy, reupload.words(rng, 2), int(h * rng.uniform(0.11, 0.16)), fill)


def caption_centre(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    w, h = img.size
    return _text(img, (int(w * 0.25), int(h * 0.45)), "WATCH NOW", int(h * 0.1), (255, 255, 255))


def badge_big(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """A round "HD" badge 13-20% of the width, anywhere."""
    img = img.copy()
    d = ImageDraw.Draw(img)
    w, h = img.size
    s = int(w * rng.uniform(0.13, 0.2))
    x, y = int(rng.integers(10, w - s - 10)), int(rng.integers(10, h - s - 10))
    d.ellipse((x, y, x + s, y + s), fill=(30, 30, 200))
    d.text((x + s // 5, y + s // 3), "HD", font=reupload.font(s // 3), fill="white")
    return img


def crop_corner(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """15% off two adjacent sides."""
    w, h = img.size
    return img.crop((int(0.15 * w), int(0.15 * h), w, h))


def turn_whole(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """5 degrees, the canvas grown to keep the corners (black wedges at the edges)."""
    angle = float(rng.choice([-5.0, 5.0]))
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)


def blur_strong(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(3.0))


def sharpen(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return img.filter(ImageFilter.UnsharpMask(2, 150, 3))


def colour_strong(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return reupload.colour_edit(rng, img, (0.3, 2.0), (0.65, 1.35), (0.6, 1.5), 40)


def jpeg_q10(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return Image.open(io.BytesIO(reupload.jpeg(img, 10))).convert("RGB")


def border_uneven(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """White margins of 0-8% on each side, the whole resized back to the original's size."""
    w, h = img.size
    left, top, right, bottom = (int(w * rng.uniform(0.0, 0.08)) for _ in range(4))
    out = Image.new("RGB", (w + left + right, h + top + bottom), (255, 255, 255))
    out.paste(img, (left, top))
    return out.resize((w, h))


VARIANTS: dict[str, Edit] = {
    "caption_big": caption_big,
    "caption_centre": caption_centre,
    "badge_big": badge_big,
    "crop_corner": crop_corner,
    "turn_whole": turn_whole,
    "blur_strong": blur_strong,
    "sharpen": sharpen,
    "colour_strong": colour_strong,
    "jpeg_q10": jpeg_q10,
    "border_uneven": border_uneven,
    **reupload.TONE_EDITS,
}


def originals(designs: int) -> tuple[list[Image.Image], int]:
    """The originals (photos first) and how many are photos."""
    folder = os.path.join(os.path.dirname(skimage.__file__), "data")
    photos = []
    for name in PHOTOS:
        with Image.open(os.path.join(folder, name)) as img:
            photos.append(reupload.fit_16x9(img.convert("RGB")))
    rng = np.random.default_rng(SEED)
    thumbs = [reupload.thumbnail(SEED * 1000 + i, reupload.title(rng)) for i in range(6)]
    return photos + thumbs + [tpl.template_base(rng) for _ in range(designs)], len(photos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=40, help="template designs drawn")
    parser.add_argument("--only", default="", help="comma-separated variants (default: all)")
    parser.add_argument("--explain", action="store_true", help="print each miss's reason")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(VARIANTS)
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; expected some of {sorted(VARIANTS)}")
    bases, photos = originals(args.designs)
    print(tpl.fonts_in_use())
    frames = [Frame.of(reupload.jpeg(b, 92)) for b in bases]
    found: Counter[str] = Counter()
    photo_found = 0
    started = time.perf_counter()
    for name in names:
        rng = np.random.default_rng([SEED, list(VARIANTS).index(name)])  # alike with --only
        for i, base in enumerate(bases):
            copy = VARIANTS[name](rng, base)
            result = compare_frames(frames[i], Frame.of(reupload.jpeg(copy, 85)))
            found[name] += result.duplicate
            photo_found += result.duplicate and i < photos
            if args.explain and not result.duplicate:
                print(f"  miss {name} #{i}: {result.score:.3f} {result.reason}")
        print(f"{name:16s} found {found[name]}/{len(bases)}", flush=True)
    total = len(names) * len(bases)
    weakest = min(names, key=lambda n: found[n])
    print(f"{total} copies in {time.perf_counter() - started:.0f}s")
    print(
        f"variants_found={sum(found.values())}/{total} "
        f"weakest={weakest}:{found[weakest] / len(bases):.3f} "
        f"photos={photo_found}/{len(names) * photos}"
    )


if __name__ == "__main__":
    main()
