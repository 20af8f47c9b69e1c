"""Letters as colour edges: where each image has strong colour edges at orientations the
other lacks nearby, side by side, two titles were written in one place (``_new_lettering``).
A copy in grey or one tint of it (``_greyed``) is compared in grey: it keeps its original's
edges in brightness, not those between two colours of one grey.
"""

from __future__ import annotations

import cv2
import numpy as np

from atlas_core.vision.compare.hues import _LABEL_RGB, _greyed
from atlas_core.vision.compare.tuning import (
    EDGE_BINS,
    EDGE_REACH,
    EDGE_SHIFT,
    EDGE_STRONG,
    EDGE_WEAK,
    NEW_EDGE_PX,
    NEW_LETTERING_MIN,
    NEW_TITLE_TILES,
    TILE_PX,
)


def _new_lettering(
    colours: tuple[np.ndarray, np.ndarray],
    m: np.ndarray,
    sigma: float,
    grid: tuple[int, int],
    where: np.ndarray,
) -> tuple[int, np.ndarray]:
    """How many tiles (of ``where``) hold strong edges one image has and the other lacks,
    next to a tile where the other has its own: two titles in one place (NEW_EDGE_PX,
    EDGE_STRONG), the fewer of the two images' such tiles; at least NEW_LETTERING_MIN when one
    image alone has such tiles over NEW_TITLE_TILES. And those tiles, of both images (bool,
    the tile grid): where the lettering differs (``_lettering_lookalike``). A candidate in
    grey or one tint of it (``_greyed``) is compared with the original in grey."""
    inside = m > 0
    rgb_a, rgb_b = (np.take(_LABEL_RGB, c, axis=0) for c in colours)
    if _greyed(rgb_a, rgb_b, m):
        rgb_a, rgb_b = _grey(rgb_a), _grey(rgb_b)
    (strong_a, near_a), (strong_b, near_b) = (_colour_edges(c, sigma) for c in (rgb_a, rgb_b))
    a = where & (_lacking(np.where(inside, strong_a, -1), near_b, grid) >= NEW_EDGE_PX)
    b = where & (_lacking(np.where(inside, strong_b, -1), near_a, grid) >= NEW_EDGE_PX)
    around = np.ones((3, 3), np.uint8)
    next_to_b = cv2.dilate(b.astype(np.uint8), around) > 0
    next_to_a = cv2.dilate(a.astype(np.uint8), around) > 0
    paired = min(int((a & next_to_b).sum()), int((b & next_to_a).sum()))
    alone = max(int(a.sum()), int(b.sum()))
    count = max(paired, NEW_LETTERING_MIN if alone >= NEW_TITLE_TILES else 0)
    return count, (a & next_to_b) | (b & next_to_a)


def _lacking(strong: np.ndarray, near: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Per tile: how many of one image's strong edge pixels (their orientation bins, -1
    elsewhere) have no edge of the other's (``near``: per pixel, a bit per orientation bin) at
    their orientation or a bin either side, at the tile's best shift of up to EDGE_SHIFT
    pixels each way (what is left of the fit's misalignment: a crop's zoom, a turn, over a
    large shape's outline)."""
    cols, rows = grid
    # A bin's neighbours, either side (bins wrap round: 0 and 180 degrees are one).
    top = EDGE_BINS - 1
    alike = near | (near << 1) | (near >> top) | (near >> 1) | (near << top)
    s = EDGE_SHIFT
    padded = np.pad(alike, s)
    width = padded.shape[1]
    flat = padded.ravel()
    ys, xs = np.nonzero(strong >= 0)
    keep = (ys < rows * TILE_PX) & (xs < cols * TILE_PX)
    ys, xs = ys[keep], xs[keep]
    bins = strong[ys, xs].astype(np.uint16)
    tile = (ys // TILE_PX) * cols + xs // TILE_PX
    at = (ys + s) * width + xs + s  # each pixel's place in ``padded``, unshifted
    fewest = np.full(rows * cols, np.iinfo(np.int64).max)
    for dy in range(-s, s + 1):
        for dx in range(-s, s + 1):
            lacking = ((flat[at + (dy * width + dx)] >> bins) & 1) == 0
            fewest = np.minimum(fewest, np.bincount(tile[lacking], minlength=rows * cols))
    out: np.ndarray = fewest.reshape(rows, cols)
    return out


def _grey(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` (float32) in grey (ITU-R 601 luma, as ``to_gray``), in all three channels."""
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(luma[..., None], 3, axis=2)


def _colour_edges(image: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Of an image (float32 RGB: its colour labels' colours): the strong edge pixels'
    orientation bins (-1 elsewhere), and per pixel, a bit per orientation bin (uint16) set
    where an edge of it (EDGE_WEAK) lies within EDGE_REACH."""
    rgb = cv2.GaussianBlur(image, (0, 0), sigma)
    # The colour structure tensor: its larger eigenvalue is the edge's strength (in grey
    # units), its eigenvector the edge's orientation.
    gx = cv2.Sobel(rgb, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(rgb, cv2.CV_32F, 0, 1)
    xx, yy, xy = gx * gx, gy * gy, gx * gy
    jxx = xx[..., 0] + xx[..., 1] + xx[..., 2]
    jyy = yy[..., 0] + yy[..., 1] + yy[..., 2]
    jxy = xy[..., 0] + xy[..., 1] + xy[..., 2]
    diff = jxx - jyy
    spread = cv2.sqrt(diff * diff + 4.0 * jxy * jxy)
    strength = cv2.sqrt(np.maximum(jxx + jyy + spread, 0.0) * (1.0 / 6.0))
    angle = cv2.phase(diff, 2.0 * jxy) * 0.5  # 0..pi
    bins = np.minimum((angle * (EDGE_BINS / np.pi)).astype(np.int32), EDGE_BINS - 1)
    strong = np.where(strength >= EDGE_STRONG, bins, -1)
    bits = np.where(strength >= EDGE_WEAK, np.left_shift(1, bins), 0).astype(np.uint16)
    # Within EDGE_REACH: the bits of every pixel of the window around, or-ed.
    r = EDGE_REACH
    h, w = bits.shape
    padded = np.pad(bits, r)
    near = np.zeros_like(bits)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            near |= padded[dy : dy + h, dx : dx + w]
    return strong, near
