"""Embedders turn an image into a 512-d unit vector for near-duplicate search.

    vec = PerceptualEmbedder().embed(jpeg_bytes)     # numpy float32, shape (512,)
    rows = frame_rows(embedder, rgb)                 # [(frame-index offset, vector), ...]

``PerceptualEmbedder`` (the default) is deterministic and dependency-light: the image with its
bars and added borders trimmed (``trim_bars``), shrunk to 128x72, in brightness (the largest
of R, G, B: a hue turn leaves it unchanged, grey luminance does not), its centre (10% margins
cut, so crops and borders change little of it) blurred and resized to 32x16, mean-centred and
L2-normalised. Decoded at a reduced scale (JPEG DCT scaling), a frame and its other rows take a
few milliseconds. Brightness and contrast changes, re-encoding, small shifts and rotations move
it little, so a re-upload's thumbnail lands within a small cosine distance of the original's.

Each stored frame has several rows (``frame_rows``); the frame's own row (offset 0) and its
zoomed centre are queried (``store.vectors.is_query_row``), the mirrors only found:
- ``MIRROR_OFFSET + i``: frame i flipped left-right (a mirrored re-upload),
- ``ZOOM_OFFSET + i`` and ``ZOOM_OFFSET + MIRROR_OFFSET + i``: the descriptor of frame i's
  centre zoomed in by 10% (5% more margin on each side) and its mirror, so a copy cropped by
  5-15% lands near one of the original's rows.
- ``GREY_OFFSET + i``: frame i's descriptor in grey, for a frame in colour, so a greyscale or
  toned (sepia) copy lands near it: its brightness is the original's grey, not its brightness.
Rows from ``QUERY_ONLY_OFFSET`` on are queried and never stored (``store.vectors`` keeps
them out of ``video_vectors``): ``SHIFT_OFFSETS[k] + i`` holds frame i's centre window
moved by ``SHIFT`` of the frame's width to the left or to the right. A copy cropped more on one side
than the other has its centre moved; one of these sees what the original's rows see.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from atlas_core.vision.preprocess import (
    BAR_DRIFT,
    BAR_SHARE,
    BAR_TOLERANCE,
    MAX_TRIM,
    decode,
    to_gray,
    trim_borders,
)

DIMENSION = 512
# Frame rows ``MIRROR_OFFSET + i`` hold the descriptor of frame i flipped left-right, so a
# mirrored re-upload is near one of the original's rows. Mirror rows are never queried
# (store.vectors.is_query_row): they are matched only.
MIRROR_OFFSET = 1000
# Rows ``ZOOM_OFFSET + i`` (and ``ZOOM_OFFSET + MIRROR_OFFSET + i``, mirrored) hold frame i's
# zoomed-in centre: a cropped copy's own row is near them, and the zoomed centre of a copy
# with a border or letterbox added is near the original's own row.
ZOOM_OFFSET = 2000
# Rows from here on are queries only (never stored), at even blocks of MIRROR_OFFSET so the
# store's ``is_query_row`` queries them: the centre window moved left and right.
QUERY_ONLY_OFFSET = 6000
SHIFT_OFFSETS = (6000, 8000)
# Row ``GREY_OFFSET + i`` holds frame i's descriptor in grey (luma) where it differs from the
# frame's own (cosine under GREY_ROW_BELOW: a frame in colour). Brightness (the largest of R,
# G, B) is what a hue turn keeps, but a greyscale copy's brightness is the original's luma, and
# a toned one's (sepia, duotone) a function of it: such a copy's own row is near this one.
# Matched only, like the mirrors.
GREY_OFFSET = 5000
GREY_ROW_BELOW = 0.95
# How far the shifted windows move, as a share of the frame's width. A 5-15% crop taken
# unevenly moves the centre by up to 7.5% (3 of the 32 cells across; 1.5 of the 16 down):
# bench/ann.py's edits, 600 planted copies among 200k background rows, exact recall@20 on two
# draws: 0.988 / 0.985 without shifted queries (misses: uneven crops, crop+mirror, crop+turn,
# colour), 0.997 / 0.993 moved left and right; also up and down 0.997 / 0.993, and the four
# diagonals as well 0.997 / 0.995: not worth two or six more index queries a frame.
SHIFT = 0.05


class Embedder(Protocol):
    name: str

    def embed(self, image: bytes) -> np.ndarray: ...

    def embed_rgb(self, rgb: np.ndarray) -> np.ndarray:
        """The vector of an already decoded RGB array (H, W, 3): the mirror row is
        ``embed_rgb(rgb[:, ::-1])``, with no re-encoding."""
        ...


# The descriptor sees the trimmed frame's centre: a crop of up to 15% or a border moves what
# it sees a little, and the blur (about 1.5 output cells) makes a small shift, rotation or
# rescaling cost little. 32 x 16 cells = 512 values. Chosen on 600 planted copies (twenty edit
# kinds: crops, rotations, borders, letterbox, overlays, colour and hue, blur, re-encoding,
# mirror and their combinations) among 200k background rows mixed from template look-alikes,
# exact recall@20: v3 as the hunt ran it (grey; trim_borders applied twice, by embed_rows and
# again inside the embedder) 0.885, 0.967 with one cut; brightness 0.923; plus zoom rows
# 0.938; plus bars cut only when they are bars (trim_bars) 0.972; brightness taken after
# shrinking, blur 5.0: 0.978 (v4). The remaining misses: overlays on low-contrast pictures,
# strong saturation shifts, rotation+crop combinations. bench/ann.py at 1M rows: brute force 0.980
# (v3: 0.890), HNSW at ef_search 40: 0.960 (v3: 0.865). v5: a bar meeting another flat band
# at once (a letterbox around a copy's added border) is cut too; the simulator's bordered,
# turned and letterboxed re-uploads came 0.2-0.85 from their originals, now 0.04-0.18.
# Blur 6.5 or 8, or margins 12%/17%, changed exact recall by at most 2 of 600 copies.
CENTRE_MARGIN = 0.10
ZOOM_MARGIN = 0.15  # the zoomed rows' margin: 10% more of the frame cut than the base row's
CELL_BLUR = 5.0  # sigma, in pixels of the 128 x 72 intermediate image
EMBED_DECODE = 256  # JPEGs are decoded at a reduced scale, at least this long
SMALL = (128, 72)
# A bar ends at a step: within STEP_LINES lines of its inner edge, a line has at least
# STEP_SHARE of its pixels away from the bar's colour (a flat background fading into the
# picture is not a bar).
STEP_LINES = 6
STEP_SHARE = 0.5


class PerceptualEmbedder:
    """Tiny-image perceptual vector of the trimmed frame's blurred centre: 32x16 brightness
    cells, centred, unit length."""

    name = "perceptual-centre-v-32x16-v6"

    def embed(self, image: bytes) -> np.ndarray:
        return self.embed_rgb(decode(image, at_least=EMBED_DECODE))

    def embed_rgb(self, rgb: np.ndarray) -> np.ndarray:
        return unit(_cells(_small(rgb), CENTRE_MARGIN).reshape(DIMENSION))

    def embed_with_mirror(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The vector of ``rgb`` and of its mirror image. Every step (trim, resize, symmetric
        centre crop, blur) commutes with a left-right flip, so the mirror's vector is the
        cell grid flipped: one pass for both rows."""
        cells = _cells(_small(rgb), CENTRE_MARGIN)
        return unit(cells.reshape(DIMENSION)), unit(cells[:, ::-1].reshape(DIMENSION))

    def frame_rows(self, rgb: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """The rows of one frame, by frame-index offset: stored, its own (0), its mirror,
        its zoomed centre and that one's mirror, and its grey row for a frame in colour
        (``GREY_OFFSET``); queried only, its centre window shifted left and right
        (``SHIFT_OFFSETS``). One shrink for all seven."""
        shrunk = _shrunk(rgb)
        small = shrunk.max(axis=2).astype(np.float32)
        base = _cells(small, CENTRE_MARGIN)
        zoom = _cells(small, ZOOM_MARGIN)
        sx = round(small.shape[1] * SHIFT)
        moves = ((-sx, 0), (sx, 0))
        own = unit(base.reshape(DIMENSION))
        grey = unit(_cells(to_gray(shrunk).astype(np.float32), CENTRE_MARGIN).reshape(DIMENSION))
        greys = [(GREY_OFFSET, grey)] if float(own @ grey) < GREY_ROW_BELOW else []
        return (
            [
                (0, own),
                (MIRROR_OFFSET, unit(base[:, ::-1].reshape(DIMENSION))),
                (ZOOM_OFFSET, unit(zoom.reshape(DIMENSION))),
                (ZOOM_OFFSET + MIRROR_OFFSET, unit(zoom[:, ::-1].reshape(DIMENSION))),
            ]
            + greys
            + [
                (offset, unit(_cells(small, CENTRE_MARGIN, dx, dy).reshape(DIMENSION)))
                for offset, (dx, dy) in zip(SHIFT_OFFSETS, moves, strict=True)
            ]
        )


def _small(rgb: np.ndarray) -> np.ndarray:
    """The bar-trimmed frame at 128x72, as brightness (max of R, G, B: unchanged by a hue
    turn), taken after shrinking so fine texture averages out first."""
    small: np.ndarray = _shrunk(rgb).max(axis=2).astype(np.float32)
    return small


def _shrunk(rgb: np.ndarray) -> np.ndarray:
    """The bar-trimmed frame at 128x72, in colour."""
    trimmed = np.ascontiguousarray(trim_bars(rgb))
    shrunk: np.ndarray = cv2.resize(trimmed, SMALL, interpolation=cv2.INTER_AREA)
    return shrunk


def _cells(small: np.ndarray, margin: float, dx: int = 0, dy: int = 0) -> np.ndarray:
    """The 32x16 centred cells of ``small``'s centre with ``margin`` cut on every side,
    moved by (``dx``, ``dy``) pixels (within the margin); the blur scales with the centre so
    a zoomed row sees what the base row would of a crop."""
    h, w = small.shape
    my, mx = round(h * margin), round(w * margin)
    if abs(dx) > mx or abs(dy) > my:
        raise ValueError(f"a window moved by ({dx}, {dy}) leaves the frame (margin {mx}, {my})")
    sigma = CELL_BLUR * (1 - 2 * margin) / (1 - 2 * CENTRE_MARGIN)
    window = small[my + dy : h - my + dy, mx + dx : w - mx + dx]
    centre = cv2.GaussianBlur(window, (0, 0), sigma)
    cells: np.ndarray = cv2.resize(centre, (32, 16), interpolation=cv2.INTER_AREA)
    centred: np.ndarray = cells - cells.mean()
    return centred


def _bar(lines: np.ndarray, limit: int) -> tuple[int, bool]:
    """(depth, whether it ends at a step) of the uniform bar at the start of ``lines``
    (axis 0: line, pixel, channel), at most ``limit`` lines (preprocess's bar rules)."""
    if limit <= 0:
        return 0, False
    colour = np.median(lines[0, ::2], axis=0)
    first = lines[0, ::2].astype(np.int16)
    mean = first.mean(axis=0)
    if (
        np.abs(mean - colour).max() > BAR_DRIFT
        or (np.abs(first - mean).max(axis=1) <= BAR_TOLERANCE).mean() < BAR_SHARE
    ):
        return 0, False  # most frames: the outermost line is no bar
    head = lines[: limit + STEP_LINES, ::2].astype(np.int16)
    own = head.mean(axis=1)
    drift = np.abs(own - colour).max(axis=1) > BAR_DRIFT
    close = (np.abs(head - own[:, None, :]).max(axis=2) <= BAR_TOLERANCE).mean(axis=1)
    stop = drift | (close < BAR_SHARE)
    stop[limit:] = True
    depth = int(np.argmax(stop))
    if depth == 0 or depth >= limit:
        return 0, False
    # A step: the picture starts (most of a line away from the bar's colour), or the bar
    # meets another uniform band at once (a border drawn inside a letterbox): a flat
    # background fading into the picture drifts line by line instead.
    jump = float(np.abs(own[depth] - own[depth - 1]).max())
    abrupt = jump > BAR_DRIFT and bool(close[depth] >= BAR_SHARE)
    inner = head[depth : depth + STEP_LINES]
    away = (np.abs(inner - colour).max(axis=2) > BAR_TOLERANCE).mean(axis=1)
    return depth, abrupt or bool(away.max() >= STEP_SHARE)


def trim_bars(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` without its letterbox/pillarbox bars or added border: uniform bars (as
    ``preprocess.trim_borders`` finds them) cut in pairs, top with bottom and left with
    right, only when both sides have one of about the same depth and one of them ends at a
    step into the picture. A flat background reaching one edge (a designed thumbnail's
    backdrop, a studio wall) is picture, not a bar: cutting it would make the frame's
    descriptor depend on how far a copy's rotation or crop lets it reach."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB array (H, W, 3), got shape {rgb.shape}")
    h, w = rgb.shape[:2]
    cols = rgb.transpose(1, 0, 2)
    cut = []
    for lines, limit in ((rgb, int(h * MAX_TRIM)), (cols, int(w * MAX_TRIM))):
        (a, step_a), (b, step_b) = _bar(lines, limit), _bar(lines[::-1], limit)
        paired = a > 0 and b > 0 and abs(a - b) <= max(3, 0.25 * max(a, b))
        cut += [a, b] if paired and (step_a or step_b) else [0, 0]
    top, bottom, left, right = cut
    return rgb[top : h - bottom, left : w - right]


def frame_rows(embedder: Embedder, rgb: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The rows to store for one decoded frame, as (frame-index offset, vector): the frame's
    own row at 0 (the one the hunt queries) and the rows that are only matched (mirror at
    ``MIRROR_OFFSET``; the embedder's own extra rows, e.g. zoomed, when it has them). The
    mirror is embedded from the flipped array, never re-encoded."""
    own = getattr(embedder, "frame_rows", None)
    if own is not None:
        rows: list[tuple[int, np.ndarray]] = own(rgb)
        return rows
    vector, mirror = embed_with_mirror(embedder, trim_borders(rgb))
    return [(0, vector), (MIRROR_OFFSET, mirror)]


def embed_with_mirror(embedder: Embedder, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A frame's row and its mirror row: the embedder's own one-pass method when it has one,
    else ``embed_rgb`` of the flipped decoded array (never re-encoded)."""
    both = getattr(embedder, "embed_with_mirror", None)
    if both is not None:
        pair: tuple[np.ndarray, np.ndarray] = both(rgb)
        return pair
    return embedder.embed_rgb(rgb), embedder.embed_rgb(np.ascontiguousarray(rgb[:, ::-1]))


def unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to unit length (float32); a zero vector (a flat image) becomes a
    fixed unit vector, so cosine distance stays defined."""
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        return np.full(DIMENSION, 1.0 / np.sqrt(DIMENSION), np.float32)
    result: np.ndarray = (vector / norm).astype(np.float32)
    return result
