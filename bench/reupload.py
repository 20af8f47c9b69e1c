"""Re-upload detection quality of ``atlas_core.vision.compare``: pairs, then end to end.

    python bench/reupload.py                       # ~2,070 template negatives, end to end
    python bench/reupload.py --size 3              # three times as many bases
    python bench/reupload.py --seed 7              # a tuning draw (seeds 1-9); 101+ held out
    python bench/reupload.py --no-index            # pairs only
    python bench/reupload.py --record r.pkl        # keep the decided pairs: bench/replay.py r.pkl
    python bench/reupload.py --explain             # why each copy missed was missed

Bases: photos that ship inside scikit-image (``skimage/data``, no network), synthetic
thumbnails (gradient, a face, shapes, a big outlined title) and designed thumbnails
(``templates.py``: gradients, rays, blobs, halftone or stock-photo backgrounds, a host's
cut-out, titles in the system's TrueType fonts at many sizes and places). Each base is
re-uploaded with ordinary edits (JPEG q20-40, letterbox, downscale, 5-15% crop, mirror,
colour shift, hue turn, text/"FULL VIDEO"/logo/emoji overlays, border, 1-5 degree rotation,
blur, and combinations), and the YouTube simulator's own re-uploads
(``simulator_alteration_1``: crop and mirror; ``_2``: border, turn and badge; both
colour-shifted, JPEG q20-40; reported apart as ``simulator_recall``). Negatives: copies of
other bases, the old same-template pairs, other crops of one photo, flat images, and
template negatives (``--template-groups`` groups of three per kind: same background with
other titles, same layout with other palettes, stock backgrounds shared across channels).

Pairs: recall per edit, false duplicates and recall at 99% precision per negative type,
milliseconds to prepare an image and to compare prepared frames (as the hunt does). End to
end: every image a video on its own channel in a real HNSW index (plus ``--background``
vectors); each copy and each template image is hunted as the product hunts (stage 1, then
``compare`` on every candidate). Last line: ``reupload_e2e_recall=<r> false_duplicates=<n>
template_negatives=<m> stock_photo_reuse=<k> compare_recall=<pairs> simulator_recall=<r>
compare_p50_ms=<ms>``. ``false_duplicates`` counts every pair of different videos called
duplicates (template members against each other, any other images) except
``stock_photo_reuse``: a stock-background template drawn over one of the set's own photos,
against that photo or a copy of it (the photo with a title, shapes and a face added, which
the pixels cannot tell from a re-upload with a caption), counted on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import pickle
import string
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import templates as tpl
from atlas_simulator.thumbnails import video_thumbnail as sim_thumbnail
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from atlas_core.store.vectors import ORIGINAL_DEPTH
from atlas_core.vision.compare import Comparison, Frame, compare_frames
from atlas_core.vision.embedder import PerceptualEmbedder

W, H = 640, 360
PHOTOS = [
    "astronaut.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "motorcycle_left.png",
    "coins.png",
    "moon.png",
    "ihc.png",
    "retina.jpg",
    "page.png",
    "brick.png",
    "clock_motion.png",
    "text.png",
    "cell.png",
    "gravel.png",
    "grass.png",
]

Edit = Callable[[np.random.Generator, Image.Image], Image.Image]


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def fit_16x9(img: Image.Image, box: tuple[float, float, float, float] | None = None) -> Image.Image:
    img = img.convert("RGB")
    w, h = img.size
    if box is not None:
        img = img.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
        w, h = img.size
    target = 16 / 9
    if w / h > target:
        nw = int(h * target)
        img = img.crop(((w - nw) // 2, 0, (w - nw) // 2 + nw, h))
    else:
        nh = int(w / target)
        img = img.crop((0, (h - nh) // 2, w, (h - nh) // 2 + nh))
    return img.resize((W, H), Image.Resampling.LANCZOS)


def load_photos(count: int) -> list[tuple[str, Image.Image]]:
    import skimage

    folder = os.path.join(os.path.dirname(skimage.__file__), "data")
    out = []
    for name in PHOTOS[:count]:
        with Image.open(os.path.join(folder, name)) as img:
            out.append((name, img.convert("RGB").copy()))
    return out


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def words(rng: np.random.Generator, n: int) -> str:
    letters = string.ascii_uppercase
    return " ".join(
        "".join(rng.choice(list(letters), size=int(rng.integers(3, 8)))) for _ in range(n)
    )


def thumbnail(layout_seed: int, title: str, content_seed: int | None = None) -> Image.Image:
    """A YouTube-style thumbnail: the layout/palette come from ``layout_seed``, the face and
    shapes from ``content_seed`` (default: the layout seed), the title is drawn big."""
    lay = np.random.default_rng(layout_seed)
    con = np.random.default_rng(layout_seed if content_seed is None else content_seed + 10_000)
    c1, c2 = lay.integers(0, 256, 3), lay.integers(0, 256, 3)
    t = np.linspace(0, 1, W)[None, :, None]
    bg = (c1 * (1 - t) + c2 * t) * np.ones((H, 1, 1))
    img = Image.fromarray(bg.astype(np.uint8))
    d = ImageDraw.Draw(img)
    face_left = bool(lay.integers(0, 2))
    fx = int(W * (0.22 if face_left else 0.78)) + int(con.integers(-30, 30))
    fy = int(H * 0.55) + int(con.integers(-20, 20))
    r = int(con.integers(70, 110))
    skin = tuple(int(v) for v in con.integers(120, 240, 3))
    d.ellipse((fx - r, fy - r, fx + r, fy + r), fill=skin, outline=(0, 0, 0), width=4)
    for ex in (-r // 3, r // 3):
        er = int(con.integers(8, 18))
        d.ellipse((fx + ex - er, fy - r // 4 - er, fx + ex + er, fy - r // 4 + er), fill="white")
        d.ellipse((fx + ex - 5, fy - r // 4 - 5, fx + ex + 5, fy - r // 4 + 5), fill="black")
    mw = int(con.integers(r // 4, r // 2))
    d.ellipse((fx - mw, fy + r // 4, fx + mw, fy + r // 2 + int(con.integers(5, 25))), fill="black")
    for _ in range(int(con.integers(2, 5))):
        x, y = int(con.integers(0, W)), int(con.integers(0, H))
        s = int(con.integers(20, 60))
        colour = tuple(int(v) for v in con.integers(0, 256, 3))
        if con.integers(0, 2):
            d.rectangle((x, y, x + s, y + s // 2), fill=colour, outline="black", width=3)
        else:
            d.polygon([(x, y), (x + s, y + s // 2), (x, y + s)], fill=colour, outline="black")
    tx = int(W * (0.42 if face_left else 0.04))
    text_colour = tuple(int(v) for v in lay.integers(150, 256, 3))
    lines = title.split("\n")
    for i, line in enumerate(lines):
        d.text(
            (tx, int(H * 0.1) + i * 70),
            line,
            font=font(58),
            fill=text_colour,
            stroke_width=5,
            stroke_fill=(0, 0, 0),
        )
    return img


def title(rng: np.random.Generator) -> str:
    return words(rng, 2) + "\n" + words(rng, 1)


# ---- edits ----------------------------------------------------------------------------


def e_jpeg(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return Image.open(io.BytesIO(jpeg(img, int(rng.integers(20, 41))))).convert("RGB")


def e_letterbox(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    inner = img.resize((480, 270), Image.Resampling.BILINEAR)
    out = Image.new("RGB", (480, 360), (0, 0, 0))
    out.paste(inner, (0, 45))
    return out


def e_downscale(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return img.resize((320, 180), Image.Resampling.BILINEAR)


def e_crop(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    w, h = img.size
    total = rng.uniform(0.05, 0.15)
    fx = rng.uniform(0, total)
    fy = rng.uniform(0, total)
    box = (int(fx * w), int(fy * h), int(w - (total - fx) * w), int(h - (total - fy) * h))
    return img.crop(box)


def e_mirror(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def e_colour(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return colour_edit(rng, img, (0.5, 1.6), (0.75, 1.25), (0.75, 1.3), 25)


def colour_edit(
    rng: np.random.Generator,
    img: Image.Image,
    saturation: tuple[float, float],
    brightness: tuple[float, float],
    contrast: tuple[float, float],
    cast: int,
) -> Image.Image:
    """Saturation, brightness and contrast each scaled within its range, then a cast of up to
    ``cast`` levels per channel."""
    img = ImageEnhance.Color(img).enhance(rng.uniform(*saturation))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(*brightness))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(*contrast))
    arr = np.asarray(img).astype(np.int16) + rng.integers(-cast, cast + 1, 3)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def e_text(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    img = img.copy()
    d = ImageDraw.Draw(img)
    w, h = img.size
    size = int(h * rng.uniform(0.07, 0.11))
    y = int(h * (0.82 if rng.integers(0, 2) else 0.04))
    d.text(
        (int(w * 0.05), y),
        words(rng, 2),
        font=font(size),
        fill="yellow",
        stroke_width=2,
        stroke_fill="black",
    )
    return img


def e_logo(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    img = img.copy()
    d = ImageDraw.Draw(img)
    w, h = img.size
    s = int(w * rng.uniform(0.08, 0.13))
    x = w - s - 10 if rng.integers(0, 2) else 10
    y = h - s - 10
    d.rounded_rectangle((x, y, x + s, y + s), radius=s // 5, fill=(200, 30, 30))
    d.text((x + s // 6, y + s // 4), "TV", font=font(s // 2), fill="white")
    return img


def e_border(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    w, h = img.size
    b = int(w * rng.uniform(0.03, 0.08))
    colour = tuple(int(v) for v in rng.integers(0, 256, 3))
    out = Image.new("RGB", (w + 2 * b, h + 2 * b), colour)
    out.paste(img, (b, b))
    return out


def e_rotate(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    angle = rng.uniform(1, 5) * (1 if rng.integers(0, 2) else -1)
    return img.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)


def e_blur(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(1.0, 2.5)))


def e_greyscale(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    return img.convert("L").convert("RGB")


def e_sepia(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    grey = np.asarray(img.convert("L")).astype(np.float32)[..., None]
    tone = np.array([1.07, 0.74, 0.43], np.float32) * rng.uniform(0.9, 1.1)
    return Image.fromarray(np.clip(grey * tone + 20, 0, 255).astype(np.uint8))


def chain(*edits: Edit) -> Edit:
    def run(rng: np.random.Generator, img: Image.Image) -> Image.Image:
        for e in edits:
            img = e(rng, img)
        return img

    return run


EDITS: dict[str, Edit] = {
    "jpeg_q20_40": e_jpeg,
    "letterbox_480x360": e_letterbox,
    "downscale_320x180": e_downscale,
    "crop_5_15": e_crop,
    "mirror": e_mirror,
    "colour_shift": e_colour,
    "text_overlay": e_text,
    "logo_overlay": e_logo,
    "border": e_border,
    "rotate_1_5": e_rotate,
    "blur": e_blur,
    "combo_crop_mirror_jpeg": chain(e_crop, e_mirror, e_jpeg),
    "combo_colour_text_letterbox": chain(e_colour, e_text, e_letterbox),
    "combo_rotate_border_downscale": chain(e_rotate, e_border, e_downscale),
    "combo_blur_logo_crop_jpeg": chain(e_logo, e_crop, e_blur, e_jpeg),
    "full_video_overlay": tpl.e_full_video,
    "emoji_overlay": tpl.e_emoji,
    "hue_shift": tpl.e_hue,
    "combo_emoji_hue_rotate_crop": chain(tpl.e_emoji, tpl.e_hue, e_rotate, e_crop, e_jpeg),
    "combo_full_video_mirror_border": chain(tpl.e_full_video, e_mirror, e_border),
}
# Edits outside EDITS (whose draws every seed's figures rest on): the colour dropped. Stage 1
# is measured with them too (bench/ann.py); compare's own tests cover them.
TONE_EDITS: dict[str, Edit] = {"greyscale": e_greyscale, "sepia": e_sepia}


def flat(rng: np.random.Generator, noise: float) -> Image.Image:
    colour = rng.integers(0, 256, 3)
    arr = np.ones((H, W, 3)) * colour + rng.normal(0, noise, (H, W, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def build(size: float, seed: int, template_groups: int = 8) -> list[tuple[str, bool, bytes, bytes]]:
    rng = np.random.default_rng(seed)
    n = max(2, int(12 * size))
    photos = load_photos(min(n, len(PHOTOS)))
    bases: list[Image.Image] = [fit_16x9(img) for _, img in photos]
    thumbs = [(seed * 1000 + i, title(rng)) for i in range(n)]
    bases += [thumbnail(s, t) for s, t in thumbs]
    bases += [tpl.template_base(rng) for _ in range(n)]
    pairs: list[tuple[str, bool, bytes, bytes]] = []
    originals = [jpeg(b, 92) for b in bases]
    for orig_bytes, base in zip(originals, bases, strict=True):
        for name, edit in EDITS.items():
            edited = edit(rng, base)
            pairs.append((name, True, orig_bytes, jpeg(edited, int(rng.integers(70, 92)))))
    names = list(EDITS)
    # Copies of other bases (easy negatives).
    for i, orig_bytes in enumerate(originals):
        for _ in range(2):
            j = int(rng.integers(0, len(bases) - 1))
            j = j + 1 if j >= i else j
            edit = EDITS[names[int(rng.integers(0, len(names)))]]
            pairs.append(("neg_other_base", False, orig_bytes, jpeg(edit(rng, bases[j]))))
    # Same template, another title; same layout and palette, other content and title.
    for s, _ in thumbs:
        a = thumbnail(s, title(rng))
        pairs.append(("neg_same_template", False, jpeg(a), jpeg(thumbnail(s, title(rng)))))
        b = thumbnail(s, title(rng), content_seed=s + 1)
        pairs.append(("neg_same_layout", False, jpeg(a), jpeg(e_jpeg(rng, b))))
    # Other crops of one photo: windows that overlap little.
    for _, photo in photos:
        left = fit_16x9(photo, (0.0, 0.0, 0.6, 0.6))
        right = fit_16x9(photo, (0.4, 0.4, 1.0, 1.0))
        pairs.append(("neg_other_crop", False, jpeg(left), jpeg(right)))
        top = fit_16x9(photo, (0.0, 0.0, 1.0, 0.55))
        bottom = fit_16x9(photo, (0.0, 0.45, 1.0, 1.0))
        pairs.append(("neg_other_crop", False, jpeg(top), jpeg(bottom)))
    # Designed thumbnails that share a template: different videos, never duplicates.
    for kind in tpl.KINDS:
        for _ in range(template_groups):
            group = [jpeg(img, int(rng.integers(75, 93))) for img in tpl.template_group(rng, kind)]
            for i in range(len(group)):
                for j in range(i + 1, len(group)):
                    pairs.append((f"neg_tpl_{kind}", False, group[i], group[j]))
    # Flat images: never duplicates, even of themselves.
    for _ in range(n):
        a = flat(rng, float(rng.uniform(0, 4)))
        pairs.append(("neg_flat", False, jpeg(a), jpeg(flat(rng, float(rng.uniform(0, 4))))))
        pairs.append(("neg_flat", False, jpeg(a), jpeg(e_jpeg(rng, a))))
    # The YouTube simulator's own re-uploads (the soak and the demo rely on them): alteration
    # 1 crops and mirrors, 2 borders, turns and brands; both shift colours and re-encode.
    # One rendition of each simulated video is its original, re-uploaded both ways: two
    # renditions of one video (maxres, the letterboxed sd) are one video, not two.
    names = ["maxresdefault", "sddefault", "hqdefault", "hq1", "hq2", "mq3", "sd1"]
    for i in range(3 * n):
        source = f"bench{seed}v{i}"
        name = names[int(rng.integers(0, len(names)))]
        original = sim_thumbnail(source, name, seed=seed)
        for alteration in (1, 2):
            copy = sim_thumbnail(source, name, seed=seed, alteration=alteration)
            pairs.append((f"simulator_alteration_{alteration}", True, original, copy))
    return pairs


def recall_at_precision(scores: np.ndarray, labels: np.ndarray, target: float) -> float:
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    fp = np.cumsum(~y)
    best = 0.0
    positives = max(1, int(labels.sum()))
    for k in range(len(s)):
        if k + 1 < len(s) and s[k + 1] == s[k]:
            continue  # a threshold takes all tied scores
        if tp[k] / (tp[k] + fp[k]) >= target:
            best = max(best, tp[k] / positives)
    return best


def score_pairs(
    pairs: list[tuple[str, bool, bytes, bytes]], frames: dict[bytes, Frame]
) -> tuple[list[Comparison], list[float]]:
    results, times = [], []
    for _, _, a, b in pairs:
        t0 = time.perf_counter()
        results.append(compare_frames(frames[a], frames[b]))
        times.append(1000 * (time.perf_counter() - t0))
    return results, times


def report_pairs(
    pairs: list[tuple[str, bool, bytes, bytes]], results: list[Comparison], errors: bool
) -> float:
    y = np.array([label for _, label, _, _ in pairs])
    s = np.array([r.score for r in results])
    d = np.array([r.duplicate for r in results])
    tp, fp, fn = int((d & y).sum()), int((d & ~y).sum()), int((~d & y).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"pairs={len(pairs)} positives={int(y.sum())} negatives={int((~y).sum())}")
    per: dict[str, list[int]] = defaultdict(list)
    for i, (kind, _, _, _) in enumerate(pairs):
        per[kind].append(i)
    positives = [i for i in range(len(pairs)) if y[i]]
    for kind, idx in per.items():
        ks = s[idx]
        if kind.startswith("neg_"):
            # recall at 99% precision against this negative type alone
            sel = positives + idx
            at99 = recall_at_precision(s[sel], y[sel], 0.99)
            print(
                f"  {kind:32s} false_duplicates={int(d[idx].sum())}/{len(idx)} "
                f"recall_at_p99={at99:.3f} score max={ks.max():.3f}"
            )
        else:
            print(
                f"  {kind:32s} recall={d[idx].mean():.3f} (n={len(idx)}) score min={ks.min():.3f}"
            )
        if errors:
            for i in idx:
                if d[i] != y[i]:
                    print(f"    error {kind}: label={y[i]} {results[i]}")
    at99 = recall_at_precision(s, y, 0.99)
    templates = [i for i, p in enumerate(pairs) if p[0].startswith("neg_tpl_")]
    print(f"precision={precision:.4f} recall={recall:.4f} recall_at_p99={at99:.4f}")
    print(f"template negatives={len(templates)} false_duplicates={int(d[templates].sum())}")
    return at99


@dataclass(frozen=True)
class Decision:
    """One pair the end-to-end hunt decided (``--record``), as ``bench/replay.py`` reads it:
    the images (JPEG bytes, the earlier-seen one first), the look-alikes it was given, what
    ``compare_frames`` said, and what the pair is: ``COPY`` (an original and its copy: what
    recall counts), ``SIBLINGS`` (two copies of one original), a template negative's kind,
    ``STOCK_REUSE`` or ``other``. Recordings made before SIBLINGS call both ``COPY``."""

    original: bytes
    candidate: bytes
    references: tuple[bytes, ...]
    duplicate: bool
    score: float
    kind: str


async def end_to_end(
    pairs: list[tuple[str, bool, bytes, bytes]],
    frames: dict[bytes, Frame],
    background_rows: int,
    seed: int,
    database_url: str | None,
    record: list[Decision] | None = None,
    explain: bool = False,
) -> tuple[float, int, int, dict[str, int]]:
    """Every image a video on its own channel in a real index (plus background vectors);
    each copy and each template image is hunted as the product hunts: stage 1
    (``candidates_for`` its query rows) and ``compare`` on every candidate. Returns (recall of
    originals, false duplicates, template pairs, false by kind: ``STOCK_REUSE`` among them).
    ``record``: each pair decided is appended to it (``Decision``), for ``bench/replay.py``.
    ``explain``: print why each copy missed was not found a copy of its original (``_missed``)."""
    import psycopg
    from index import Video, background, load_index, scratch_index
    from pgvector.psycopg import register_vector_async

    from atlas_core.pipeline.vectors import (
        COMPARE_AT_MOST,
        HUNT_GATE,
        ORIGINALS_AT_MOST,
        embed_rows,
    )
    from atlas_core.store.vectors import CANDIDATES, candidates_for, is_stored_row, queries_of

    embedder = PerceptualEmbedder()
    ident: dict[bytes, int] = {}
    kind_of: dict[bytes, str] = {}
    for kind, label, a, b in pairs:
        if not label and not kind.startswith("neg_tpl_"):
            continue  # copies of other bases: their identity is not tracked here
        ia = ident.setdefault(a, len(ident))
        if label:
            ident.setdefault(b, ia)
        else:
            ident.setdefault(b, len(ident))
        if kind.startswith("neg_tpl_"):
            kind_of[a] = kind_of[b] = kind
    ids = {img: f"img{i:07d}" for i, img in enumerate(ident)}
    videos = []
    seeds = []
    queries = {}
    for img, vid in ids.items():
        # The rows the hunt stores (``embed_rows``: the frame, its mirror, its zoomed centre)
        # and queries (the frame, its zoomed centre and shifted windows).
        rows = embed_rows(embedder, vid, [(0, img)])
        seeds.append(rows[0][2])
        stored = [(frame, v) for _, frame, v, _ in rows if is_stored_row(frame)]
        videos.append(Video(vid, "UC" + vid, stored))
        queries[vid] = queries_of(rows, "UC" + vid)
    rng = np.random.default_rng(seed)
    bg = background(np.array(seeds), background_rows, rng)
    videos += [Video(f"bg{j:08d}", f"UCbg{j // 100:08d}", [(0, bg[j])]) for j in range(len(bg))]
    by_id = {vid: img for img, vid in ids.items()}
    copies = [(b, a) for kind, label, a, b in pairs if label]
    originals = {a for _, a in copies}
    hunted = list(dict.fromkeys([b for b, _ in copies] + list(kind_of)))
    found: set[tuple[bytes, bytes]] = set()
    false_pairs: set[frozenset[str]] = set()
    false_kind: dict[str, int] = defaultdict(int)
    decided: dict[frozenset[str], bool] = {}
    # For --explain: each decision's result, each hunted image's stage 1 (the other videos
    # within CANDIDATES rows, nearest first, with their nearest row's distance) and the
    # videos it was compared with.
    results: dict[frozenset[str], Comparison] = {}
    stage1: dict[bytes, list[tuple[str, float]]] = {}
    compared_with: dict[bytes, list[str]] = {}
    # As the hunt records them: each image found a copy, its originals (wrong ones too).
    recorded: dict[str, list[str]] = defaultdict(list)
    first_recorded: dict[str, int] = {}  # each original, in the order first recorded as one
    with scratch_index(database_url) as dsn:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            await register_vector_async(conn)
            took = await load_index(conn, videos, embedder.name)
            rows = sum(len(v.vectors) for v in videos)
            print(f"end to end: {rows:,} vectors ({len(ids)} images), HNSW {took['hnsw_s']:.0f}s")
            for img in hunted:
                cands = await candidates_for(
                    conn, queries[ids[img]], CANDIDATES, embedder=embedder.name
                )
                # As the hunt does: the nearest COMPARE_AT_MOST other videos within HUNT_GATE.
                seen: list[str] = []
                for c in cands:
                    if c.match_video_id not in seen and c.distance <= HUNT_GATE:
                        seen.append(c.match_video_id)
                if explain:
                    nearest: dict[str, float] = {}
                    for c in cands:
                        nearest.setdefault(c.match_video_id, c.distance)
                    stage1[img] = list(nearest.items())
                compared = seen[:COMPARE_AT_MOST]
                # As the hunt does: the originals of neighbours recorded as copies come in too,
                # every neighbour's roots first (``originals_of``).
                extra: list[str] = []
                up = {m: _originals(recorded, first_recorded, m) for m in seen}
                for roots in (True, False):
                    for m in seen:
                        for o in up[m]:
                            new = o != ids[img] and o not in compared and o not in extra
                            root = not recorded.get(o)
                            if root == roots and new and len(extra) < ORIGINALS_AT_MOST:
                                extra.append(o)
                compared += extra
                compared_with[img] = compared
                # As the hunt does: the other images near this one are the look-alikes a
                # duplicate is checked against (``compare_frames``' references).
                near = [by_id[m] for m in compared if m in by_id]
                for match_id in compared:
                    if match_id not in by_id:
                        continue  # a background row (a synthetic vector, no image)
                    stored = by_id[match_id]
                    others = tuple(x for x in near if x is not stored)
                    references = [frames[x] for x in others]
                    # As the hunt does: the earlier-published video is the original (here the
                    # image first seen: an original before its copies, a template's members in
                    # order), so a pair hunted from both sides is decided once.
                    first, later = sorted((stored, img), key=lambda x: ids[x])
                    key = frozenset((ids[first], ids[later]))
                    if key not in decided:
                        result = compare_frames(frames[first], frames[later], references)
                        decided[key] = result.duplicate
                        if explain:
                            results[key] = result
                        if record is not None:
                            kind = _false_kind(kind_of, first, later)
                            if ident[first] == ident[later]:
                                kind = COPY if {first, later} & originals else SIBLINGS
                            record.append(
                                Decision(first, later, others, result.duplicate, result.score, kind)
                            )
                    if not decided[key]:
                        continue
                    if ids[first] not in recorded[ids[later]]:
                        recorded[ids[later]].append(ids[first])
                        first_recorded.setdefault(ids[first], len(first_recorded))
                    if ident[stored] == ident[img]:
                        found.add((img, stored))
                    else:
                        pair = frozenset((ids[img], match_id))
                        if pair not in false_pairs:
                            false_pairs.add(pair)
                            false_kind[_false_kind(kind_of, img, stored)] += 1
    recall = float(np.mean([(b, a) in found for b, a in copies]))
    template_pairs = sum(1 for p in pairs if p[0].startswith("neg_tpl_"))
    if explain:
        edits = {(b, a): kind for kind, label, a, b in pairs if label}
        for b, a in copies:
            if (b, a) not in found:
                result = results.get(frozenset((ids[a], ids[b])))
                if ids[a] not in compared_with[b]:
                    result = None  # decided when the original was hunted, not from this side
                why = _missed(ids[a], result, stage1[b])
                print(f"missed {edits[(b, a)]}: {ids[b]} (copy of {ids[a]}) {why}")
    return recall, sum(false_kind.values()), template_pairs, dict(false_kind)


def _missed(original: str, result: Comparison | None, stage1: list[tuple[str, float]]) -> str:
    """Why a copy's hunt did not find its ``original``: what ``compare`` said of the pair
    (``result``), or, never compared, where the original stood in the copy's ``stage1`` (the
    other videos within CANDIDATES rows, nearest first, with their nearest row's distance)."""
    from atlas_core.pipeline.vectors import COMPARE_AT_MOST, HUNT_GATE
    from atlas_core.store.vectors import CANDIDATES

    if result is not None:
        return f"compared: score {result.score:.3f}, {result.reason}"
    ranks = {video: (i, distance) for i, (video, distance) in enumerate(stage1)}
    if original not in ranks:
        return f"never compared: not among the {CANDIDATES} nearest rows (stage 1)"
    rank, distance = ranks[original]
    if distance > HUNT_GATE:
        return f"never compared: nearest row at {distance:.3f}, past HUNT_GATE {HUNT_GATE}"
    within = sum(1 for _, d in stage1[:rank] if d <= HUNT_GATE)
    return (
        f"never compared: video {within + 1} within HUNT_GATE (distance {distance:.3f}), "
        f"past the nearest {COMPARE_AT_MOST}"
    )


def _originals(
    recorded: dict[str, list[str]], first_recorded: dict[str, int], video: str
) -> list[str]:
    """As ``originals_of`` orders them: ``video``'s recorded originals and theirs, up to
    ``ORIGINAL_DEPTH`` pairs away, roots first, then nearest, then first recorded first."""
    depth: dict[str, int] = {}
    level = [video]
    for d in range(1, ORIGINAL_DEPTH + 1):
        level = [o for v in level for o in recorded.get(v, []) if o != video and o not in depth]
        level = list(dict.fromkeys(level))
        for o in level:
            depth[o] = d
    return sorted(
        depth, key=lambda o: (bool(recorded.get(o)), depth[o], first_recorded.get(o, 0), o)
    )


# What a recorded pair of one original's images is (``Decision.kind``): the original and a
# copy of it, or two of its copies.
COPY = "copy"
SIBLINGS = "copies_of_one_original"
# A stock-background template drawn over one of the set's photos, against that photo (or a
# copy of it): the photo with a title, shapes and a face added, which the pixels cannot tell
# from a re-upload with a caption. Reported on its own, never among the template negatives.
STOCK_REUSE = "stock_photo_reuse"


def _false_kind(kind_of: dict[bytes, str], a: bytes, b: bytes) -> str:
    ka, kb = kind_of.get(a), kind_of.get(b)
    if "neg_tpl_stock_background" in (ka, kb) and None in (ka, kb):
        return STOCK_REUSE
    return ka or kb or "other"


def prepared_frames(pairs: list) -> dict[bytes, Frame]:
    """Each image of ``pairs`` prepared once, with its mirror keypoints (the candidate side's)."""
    frames: dict[bytes, Frame] = {}
    for _, _, a, b in pairs:
        for img in (a, b):
            if img not in frames:
                frames[img] = Frame.of(img)
                frames[img].mirror  # noqa: B018
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=float, default=1.0, help="scale of the set (1 = default)")
    # compare's THRESHOLD was tuned on seeds 1-9: the default reports on held-out seed 101.
    parser.add_argument("--seed", type=int, default=101, help="101+: held out; 1-9: tuning")
    parser.add_argument(
        "--template-groups", type=int, default=230, help="groups of 3 per template kind"
    )
    parser.add_argument("--background", type=int, default=5000, help="background vectors")
    parser.add_argument("--no-index", action="store_true", help="pairs only, no end to end")
    parser.add_argument("--database-url", help="a PostgreSQL server (default: embedded)")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument(
        "--record",
        metavar="PATH",
        help="write every pair the end-to-end hunt decided to PATH (for bench/replay.py)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="end to end: say why each copy missed was missed (compare's reason, or stage 1's)",
    )
    args = parser.parse_args()
    print(tpl.fonts_in_use())
    pairs = build(args.size, args.seed, args.template_groups)
    t0 = time.perf_counter()
    frames = prepared_frames(pairs)
    prep_ms = 1000 * (time.perf_counter() - t0) / len(frames)
    results, times = score_pairs(pairs, frames)
    report_pairs(pairs, results, args.show_errors)
    found = [
        r.duplicate
        for r, (kind, label, _, _) in zip(results, pairs, strict=True)
        if label and not kind.startswith("simulator_")
    ]
    compare_recall = float(np.mean(found))
    sim = [r.duplicate for r, p in zip(results, pairs, strict=True) if p[0].startswith("simulator")]
    simulator_recall = float(np.mean(sim))
    p50 = float(np.percentile(times, 50))
    print(f"ms_per_image_prepared={prep_ms:.1f} (decode, trim, keypoints and mirror keypoints)")
    print(
        f"compare_ms_per_pair (prepared frames) p50={np.percentile(times, 50):.1f} "
        f"mean={np.mean(times):.1f} p95={np.percentile(times, 95):.1f}"
    )
    if args.no_index:
        print(
            f"compare_recall={compare_recall:.4f} simulator_recall={simulator_recall:.4f} "
            f"compare_p50_ms={p50:.1f}"
        )
        return
    record: list[Decision] | None = [] if args.record else None
    recall, false, template_pairs, by_kind = asyncio.run(
        end_to_end(
            pairs, frames, args.background, args.seed, args.database_url, record, args.explain
        )
    )
    if args.record and record is not None:
        with open(args.record, "wb") as f:
            decisions = [vars(d) for d in record]  # plain dicts: readable without this module
            pickle.dump({"seed": args.seed, "size": args.size, "decisions": decisions}, f)
        print(f"recorded {len(record)} decisions to {args.record}")
    print(f"end-to-end false duplicates by kind: {by_kind or 'none'}")
    reuse = by_kind.get(STOCK_REUSE, 0)
    # Issue 20's target: recall >= 0.97 end to end, no false duplicate on >= 2,000 negatives.
    met = recall >= 0.97 and false - reuse == 0 and template_pairs >= 2000
    print(
        f"reupload_e2e_recall={recall:.4f} false_duplicates={false - reuse} "
        f"template_negatives={template_pairs} stock_photo_reuse={reuse} "
        f"compare_recall={compare_recall:.4f} simulator_recall={simulator_recall:.4f} "
        f"compare_p50_ms={p50:.1f} target_met={'yes' if met else 'no'}"
    )


if __name__ == "__main__":
    main()
