"""Preprocessing shared by every visual decision: decode, trim bars, measure quality.

    rgb = decode(jpeg_bytes)                 # uint8 (H, W, 3); ValueError if not an image
    trimmed = trim_borders(rgb)              # letterbox/pillarbox bars and uniform borders cut
    q = quality(to_gray(trimmed))            # 0..1: share of textured tiles; flat images ~0
    prepared = prepare(jpeg_bytes)           # all of the above at the working size

YouTube serves a 16:9 frame inside 4:3 ``hqdefault`` with black bars, and re-uploaders add
borders: both are removed before anything describes the image, so the copy and the original
are compared on the same content.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

# Longest side of the working image that features and alignment are computed on.
WORK_SIZE = 320
# A row/column is part of a bar when this share of its pixels lie within TOLERANCE of the
# outermost line's median colour (JPEG ringing leaves a few stray pixels).
BAR_SHARE = 0.97
BAR_TOLERANCE = 28
BAR_DRIFT = 8  # a bar's lines keep within this of the outermost line's median colour
# Never trim more than this share of a dimension from one side.
MAX_TRIM = 0.4
# Images smaller than this (after trimming) are too small to judge.
MIN_SIDE = 24
# Quality: share of tiles (QUALITY_GRID x QUALITY_GRID) whose blurred grey std exceeds this.
QUALITY_GRID = 16
TEXTURE_STD = 6.0
# The most pixels an image may have to be decoded: a 4K frame fits, YouTube's largest
# thumbnail (1280x720) many times over; a decompression bomb does not.
MAX_PIXELS = 4096 * 4096


def decode(image: bytes, at_least: int | None = None) -> np.ndarray:
    """JPEG/PNG/WebP (anything Pillow reads) -> RGB uint8 array (H, W, 3).

    ``at_least``: a JPEG may be decoded at a reduced scale (1/2, 1/4, 1/8: much faster) as long
    as its longest side stays at least this many pixels. ValueError for what is not an image,
    or one of more than MAX_PIXELS pixels (read from its header: nothing is decoded)."""
    if not isinstance(image, bytes | bytearray) or not image:
        raise ValueError("image must be non-empty bytes (JPEG, PNG or WebP)")
    try:
        with Image.open(io.BytesIO(image)) as img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise ValueError(
                    f"image of {w}x{h} pixels is larger than {MAX_PIXELS} pixels; expected a "
                    f"thumbnail (YouTube's largest is 1280x720)"
                )
            if at_least and img.format == "JPEG":
                scale = at_least / max(w, h)
                img.draft("RGB", (max(1, int(np.ceil(w * scale))), max(1, int(np.ceil(h * scale)))))
            rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(
            f"not a decodable image ({len(image)} bytes): {exc}; expected JPEG, PNG or WebP"
        ) from None
    return rgb


def to_gray(rgb: np.ndarray) -> np.ndarray:
    gray: np.ndarray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return gray


def _bar_depth(lines: np.ndarray, limit: int) -> int:
    """How many leading lines (axis 0 of ``lines``: line, pixel, channel) form a uniform bar."""
    if lines.shape[0] == 0 or limit <= 0:
        return 0
    colour = np.median(lines[0, ::2], axis=0)
    depth, chunk = 0, 4
    while depth < limit:
        # A few lines at a time (most images have no bar: one small chunk decides).
        # Every other pixel of a line: bars are uniform, half the pixels decide as well.
        head = lines[depth : min(limit, depth + chunk), ::2].astype(np.int16)
        own = head.mean(axis=1)
        # Uniform in itself (a few stray pixels allowed) and the bar's colour: a slow
        # gradient drifts away from the outermost line's colour within a few lines.
        drift = np.abs(own - colour).max(axis=1) > BAR_DRIFT
        close = (np.abs(head - own[:, None, :]).max(axis=2) <= BAR_TOLERANCE).mean(axis=1)
        stop = drift | (close < BAR_SHARE)
        if stop.any():
            return depth + int(np.argmax(stop))
        depth += head.shape[0]
        chunk *= 2
    return depth


def bar_widths(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """The uniform bars (letterbox, pillarbox, added borders) on each side of ``rgb``, in
    pixels: (top, bottom, left, right); all 0 for a fully uniform image.

    Each side's bar is its outermost rows/columns uniform in the colour of the outermost line,
    at most ``MAX_TRIM`` of the dimension per side."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB array (H, W, 3), got shape {rgb.shape}")
    h, w = rgb.shape[:2]
    limit_h, limit_w = int(h * MAX_TRIM), int(w * MAX_TRIM)
    top = _bar_depth(rgb, limit_h)
    bottom = _bar_depth(rgb[::-1], limit_h)
    left = _bar_depth(rgb.transpose(1, 0, 2), limit_w)
    right = _bar_depth(rgb.transpose(1, 0, 2)[::-1], limit_w)
    # Bars reaching the limit on both opposite sides: a uniform image, not a framed one.
    if (top == bottom == limit_h) or (left == right == limit_w):
        return (0, 0, 0, 0)
    return (top, bottom, left, right)


def trim_borders(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` without its uniform bars (``bar_widths``); a fully uniform image is returned
    unchanged (its quality score marks it as featureless)."""
    top, bottom, left, right = bar_widths(rgb)
    h, w = rgb.shape[:2]
    return rgb[top : h - bottom, left : w - right]


def quality(gray: np.ndarray) -> float:
    """Share of textured tiles in a grey image (0 = flat or near-uniform, 1 = detailed)."""
    if gray.shape[0] < MIN_SIDE or gray.shape[1] < MIN_SIDE:
        return 0.0
    smooth = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 1.5)
    h, w = smooth.shape
    ys = np.linspace(0, h, QUALITY_GRID + 1).astype(int)
    xs = np.linspace(0, w, QUALITY_GRID + 1).astype(int)
    # Every tile's std at once, from summed-area tables (one pass, no per-tile loop).
    total, squares = cv2.integral2(smooth, sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)

    def tiles(table: np.ndarray) -> np.ndarray:
        corners = table[np.ix_(ys, xs)]
        out: np.ndarray = corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]
        return out

    counts = np.outer(np.diff(ys), np.diff(xs)).astype(np.float64)
    mean = tiles(total) / np.maximum(counts, 1)
    variance = np.maximum(tiles(squares) / np.maximum(counts, 1) - mean * mean, 0.0)
    textured = (counts > 0) & (np.sqrt(variance) > TEXTURE_STD)
    return float(textured.sum()) / (QUALITY_GRID * QUALITY_GRID)


def resize_long_side(image: np.ndarray, size: int = WORK_SIZE) -> np.ndarray:
    h, w = image.shape[:2]
    scale = size / max(h, w)
    dims = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out: np.ndarray = cv2.resize(image, dims, interpolation=interp)
    return out


@dataclass(frozen=True)
class Prepared:
    """One image ready for comparison: trimmed, grey, at the working size."""

    gray: np.ndarray  # uint8, longest side WORK_SIZE
    quality: float
    original_shape: tuple[int, int]  # (H, W) as decoded
    trimmed_shape: tuple[int, int]  # (H, W) after trimming bars
    untrimmed: np.ndarray  # uint8 grey of the whole image, longest side WORK_SIZE
    # Each pixel of ``gray``'s colour, quantised (``colour_labels``): what is rare in an
    # image (a title's colour) is found with it. Empty when not computed.
    colour: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.uint16))
    # ``gray``'s brightness (the largest of R, G, B): a hue turn leaves it as it was, where it
    # changes grey. Empty when not computed.
    bright: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.uint8))
    # ``gray``'s pixels in colour (uint8 RGB): where a title differs from another in colour
    # alone. Empty when not computed.
    rgb: np.ndarray = field(default_factory=lambda: np.empty((0, 0, 3), np.uint8))
    # The bars trimmed (``bar_widths``): top, bottom, left, right, in pixels as decoded.
    bars: tuple[int, int, int, int] = (0, 0, 0, 0)

    def margins(self, mirrored: bool = False) -> tuple[float, float, float, float]:
        """``bars`` in pixels of ``gray`` (its mirror image's, ``mirrored``): what trimming
        cut beyond each side of the working frame."""
        scale = max(self.gray.shape) / max(self.trimmed_shape)
        top, bottom, left, right = (scale * b for b in self.bars)
        return (top, bottom, right, left) if mirrored else (top, bottom, left, right)


def prepare(image: bytes | np.ndarray) -> Prepared:
    """Decode (unless given an RGB array), trim bars and borders, and bring to the working
    size (grey). ``original_shape`` is the image as decoded (a JPEG may decode reduced)."""
    rgb = image if isinstance(image, np.ndarray) else decode(image, at_least=WORK_SIZE)
    bars = bar_widths(rgb)
    top, bottom, left, right = bars
    trimmed = rgb[top : rgb.shape[0] - bottom, left : rgb.shape[1] - right]
    gray = resize_long_side(to_gray(trimmed))
    q = quality(gray) if min(trimmed.shape[:2]) >= MIN_SIDE else 0.0
    small = resize_long_side(trimmed)
    return Prepared(
        gray=gray,
        quality=q,
        original_shape=(rgb.shape[0], rgb.shape[1]),
        trimmed_shape=(trimmed.shape[0], trimmed.shape[1]),
        untrimmed=gray if not any(bars) else resize_long_side(to_gray(rgb)),
        rgb=np.ascontiguousarray(small),
        bars=bars,
        **colour_planes(small),
    )


def colour_planes(rgb: np.ndarray) -> dict[str, np.ndarray]:
    """``Prepared``'s ``colour`` and ``bright`` of its ``rgb``."""
    return {"colour": colour_labels(rgb), "bright": np.ascontiguousarray(rgb.max(axis=2))}


COLOUR_LEVELS = 8  # per channel: 512 colours


def colour_labels(rgb: np.ndarray) -> np.ndarray:
    """Each pixel's colour as one of COLOUR_LEVELS**3 labels (uint16)."""
    q = (rgb.astype(np.uint16) * COLOUR_LEVELS) >> 8
    labels: np.ndarray = (q[..., 0] * COLOUR_LEVELS + q[..., 1]) * COLOUR_LEVELS + q[..., 2]
    return labels
