"""The pair in colour (``_in_colour``) and what colour alone can tell: where no colour map of
the candidate's tile makes the original's (``_unexplained``), how much of the original is so
left unmade (``_unmade``), and the original's own colours gone (``_colours_gone``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

import cv2
import numpy as np
from numpy.lib.stride_tricks import as_strided

from atlas_core.vision.compare.align import _Fit, _native, _tiled
from atlas_core.vision.compare.frame import Frame
from atlas_core.vision.compare.hues import _greyed
from atlas_core.vision.compare.tiles import (
    _Agreement,
    _near,
    _pattern_counts,
    _rarity,
    _tile_means,
    _tile_share,
    _weights,
)
from atlas_core.vision.compare.tuning import (
    ABSENT,
    ADDED_GAIN,
    AGREE_NCC,
    CLIP_LEVEL,
    CLIPPED_COLOUR,
    CLIPPED_TILE,
    COMMON_TILE,
    CRUSHED_LEVEL,
    EXTRA_BLUR,
    FLAT_STD,
    GONE_MIN,
    PATTERN_UNEXPLAINED,
    RARE_TILE,
    TILE_PX,
    UNEXPLAINED,
    UNEXPLAINED_NOISE,
)
from atlas_core.vision.preprocess import COLOUR_LEVELS


@dataclass(frozen=True)
class _InColour:
    """The original and the candidate aligned onto it, in colour, as ``_evaluate`` tiles
    them (``_tiled``): float32 RGB, colour labels, the covered ``mask``, the pixel weights
    ``m`` and tiles ``inside`` of ``_weights``, the candidate's ``overlay`` (its tiles in
    colours the original lacks), and ``weight``, each tile's mean of ``m`` (at least 1e-6:
    what a tile's summed weights are divided by)."""

    original: np.ndarray
    candidate: np.ndarray
    labels: tuple[np.ndarray, np.ndarray]
    mask: np.ndarray
    m: np.ndarray
    inside: np.ndarray
    overlay: np.ndarray
    grid: tuple[int, int]
    sigma: float
    weight: np.ndarray

    @cached_property
    def greyed(self) -> bool:
        """Whether the candidate is a copy in grey, or near it, or in one tint of grey
        (``_greyed``), whose title is only its brightness. Made once a pair."""
        return _greyed(self.original, self.candidate, self.m)


def _in_colour(original: Frame, candidate: Frame, fit: _Fit) -> _InColour | None:
    """``_InColour`` of a pair aligned by ``fit``; None without the fit's matrix (the whole
    frames' edge-to-edge fit) or colour (``Prepared.rgb``)."""
    o, c = original.prepared, candidate.prepared
    if fit.matrix is None or not o.rgb.size or not c.rgb.size:
        return None
    cand, cand_rgb, cand_colour = c.gray, c.rgb, c.colour
    if fit.mirrored:
        cand = np.ascontiguousarray(cand[:, ::-1])
        cand_rgb = np.ascontiguousarray(cand_rgb[:, ::-1])
        cand_colour = np.ascontiguousarray(cand_colour[:, ::-1])
    small_o, small_c, half, sigma = _tiled(o.gray, cand, _native(c), fit.matrix)
    h, w = small_o.shape
    ch, cw = small_c.shape
    area, near = cv2.INTER_AREA, cv2.INTER_NEAREST
    orig_rgb = cv2.resize(o.rgb, (w, h), interpolation=area).astype(np.float32)
    warped = cv2.warpAffine(
        cv2.resize(cand_rgb, (cw, ch), interpolation=area).astype(np.float32), half, (w, h)
    )
    mask = cv2.warpAffine(np.ones((ch, cw), np.uint8), half, (w, h), flags=near)
    m, inside = _weights(mask, sigma)
    grid = (w // TILE_PX, h // TILE_PX)
    labels_o = cv2.resize(o.colour, (w, h), interpolation=near)
    labels_c = cv2.warpAffine(
        cv2.resize(cand_colour, (cw, ch), interpolation=near), half, (w, h), flags=near
    )
    k = np.maximum(cv2.resize(m, grid, interpolation=area), 1e-6)
    overlay = _tile_share(labels_c, m, _near(labels_o, m) < ABSENT, grid) / k >= RARE_TILE
    return _InColour(
        orig_rgb, warped, (labels_o, labels_c), mask, m, inside, overlay, grid, sigma, k
    )


def _unexplained(pair: _InColour) -> tuple[np.ndarray, np.ndarray]:
    """Per tile of the original's grid (as ``_evaluate`` tiles it), with the candidate aligned
    onto it (``pair``, ``_in_colour``): the share of the original's colour variance, in its
    least explained direction of colour, that the candidate leaves unexplained with an affine
    colour map of the tile's own (the best of one-pixel shifts); and the tiles judged (well
    inside the covered area, not the candidate's overlay: its colours the original lacks, nor
    tiles a colour edit clipped, ``_crushed``: no affine map undoes a clip)."""
    theirs = cv2.GaussianBlur(pair.candidate, (0, 0), pair.sigma)
    ours = _as_sharp(pair.original, theirs, pair.sigma, pair.m)
    judged = pair.inside & ~pair.overlay & ~_crushed(pair)
    return _colour_residual(ours, theirs, pair.m, pair.grid), judged


def _pattern_unexplained(
    unexplained: Callable[[], tuple[np.ndarray, np.ndarray]], agreement: _Agreement
) -> _Agreement:
    """``agreement`` with its broken pattern's conflicts (``_broken_pattern``) kept only where
    an affine colour map of the candidate's tile leaves PATTERN_UNEXPLAINED or more of the
    original's (``unexplained`` makes ``_unexplained``), and only while they still count
    (``_pattern_counts``): a copy's title under a colour edit (saturated, a cast) agrees in
    grey no better than another title over the pattern does, but a colour map of the tile
    makes it; no colour map makes another title's strokes."""
    pattern = agreement.pattern
    if pattern is None:
        return agreement
    left, _ = unexplained()
    if left.shape != pattern.shape:
        return agreement
    kept = pattern & (left >= PATTERN_UNEXPLAINED)
    others = agreement.conflicts - int(pattern.sum())
    if not _pattern_counts(int(kept.sum()), others):
        return replace(agreement, conflicts=others, pattern=None)
    return replace(agreement, conflicts=others + int(kept.sum()), pattern=kept)


def _colours_gone(
    pair: _InColour,
    unexplained: Callable[[], tuple[np.ndarray, np.ndarray]],
    agreement: _Agreement,
) -> int:
    """Tiles of the original in its own colours (RARE_TILE or more of them rare in what the
    two images share: a title, an emblem) where the candidate shows only shared colours
    (under COMMON_TILE) and an affine colour map of the candidate's tile leaves UNEXPLAINED or
    more of the original's (``unexplained`` makes ``_unexplained`` of ``pair``), judged as
    ``_evaluate`` judges: the original's title gone, whatever the tile's grey agreement (a
    title in its design's brightness). 0 when fewer than GONE_MIN tiles could count: the
    residual is then not made."""
    cols, rows = pair.grid
    if agreement.ncc is None or agreement.judged is None or agreement.ncc.shape != (rows, cols):
        return 0
    k = pair.weight
    shared = (agreement.ncc >= AGREE_NCC) & (k >= 0.5)
    ra = _rarity(pair.labels[0], pair.m, shared, pair.grid) / k
    rb = _rarity(pair.labels[1], pair.m, shared, pair.grid) / k
    own = pair.inside & ~pair.overlay & agreement.judged & (ra >= RARE_TILE) & (rb < COMMON_TILE)
    if int(own.sum()) < GONE_MIN:
        return 0
    if pair.greyed:
        return 0  # a copy in grey or one tint of it: colour cannot tell where its title went
    left, _ = unexplained()
    return int((own & (left > UNEXPLAINED)).sum())


def _unmade(
    pair: _InColour,
    unexplained: Callable[[], tuple[np.ndarray, np.ndarray]],
    agreement: _Agreement,
) -> int:
    """The largest patch of the original (tiles side by side) where no affine colour map of
    the candidate's tiles makes the original's (UNEXPLAINED or more of its colour left;
    ``unexplained`` makes ``_unexplained`` of ``pair``), judged where ``_unexplained`` judges
    (well inside the covered area, not the candidate's overlay, nor the frame's outermost
    tiles): the original's content, a title, that the candidate does not show in any
    colours. A copy's JPEG and downscale (chroma at a quarter of the pixels) leave such tiles
    too, but scattered. Not counted: tiles where the candidate is ADDED_GAIN times as
    detailed as the original (``agreement.gain``: a caption drawn over the picture), and
    tiles a colour edit clipped (``_crushed``). 0 for a candidate in grey or one tint of it
    (``_InColour.greyed``): its tiles are all one colour map short."""
    if pair.greyed:
        return 0
    left, judged = unexplained()
    unmade = judged & (left > UNEXPLAINED)
    gain = agreement.gain
    if gain is None or gain.shape != unmade.shape:
        return 0  # judged on another grid (the untrimmed frames)
    unmade &= gain <= ADDED_GAIN  # a caption drawn over the picture is no title gone
    # The original's outermost tiles hold its frame (a border, a frame line), which copies
    # of one original redraw each in their own colour; a title lies further in.
    unmade[0], unmade[-1], unmade[:, 0], unmade[:, -1] = False, False, False, False
    return _largest_patch(unmade)


def _largest_patch(tiles: np.ndarray) -> int:
    """The most ``tiles`` side by side (4-connected)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(tiles.astype(np.uint8), connectivity=4)
    return int(stats[1:, cv2.CC_STAT_AREA].max()) if count > 1 else 0


def _crushed(pair: _InColour) -> np.ndarray:
    """Per tile: the original's shadows or highlights (a mean within CRUSHED_LEVEL of black
    or white) that the candidate shows flat (FLAT_STD), or at black or white (CLIP_LEVEL) in
    CLIPPED_TILE of its pixels where the original is not, in colours of the original's
    clipped on CLIPPED_COLOUR of their pixels: a colour edit clipped them, at whatever level
    its later steps (an offset) left them, and no affine map undoes a clip."""
    k = pair.weight

    # Channel by channel: a reduction over the last axis of three costs some 2 ms a plane.
    def clipped(rgb: np.ndarray) -> np.ndarray:
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        low = np.minimum(np.minimum(r, g), b) <= CLIP_LEVEL
        out: np.ndarray = low | (np.maximum(np.maximum(r, g), b) >= 255 - CLIP_LEVEL)
        return out

    def grey(rgb: np.ndarray) -> np.ndarray:
        out: np.ndarray = (rgb[..., 0] + rgb[..., 1] + rgb[..., 2]) / 3
        return out

    new = clipped(pair.candidate) & ~clipped(pair.original)
    # A colour edit is one map of colour: it clips a colour of the original wherever it
    # shows it. A title's dark strokes over the design blacken a few of its pixels, not a
    # colour: what is newly clipped counts where CLIPPED_COLOUR of the colour's pixels are.
    labels = pair.labels[0]
    n = COLOUR_LEVELS**3
    everywhere = np.bincount(labels.ravel(), pair.m.ravel(), n)[:n]
    there = np.bincount(labels.ravel(), (new * pair.m).ravel(), n)[:n]
    colour_clipped = there >= CLIPPED_COLOUR * np.maximum(everywhere, 1e-6)
    new = (new & np.take(colour_clipped, labels)).astype(np.float32)
    grey_o, grey_c = grey(pair.original), grey(pair.candidate)
    sums = _tile_means(
        [new * pair.m, grey_o * pair.m, grey_c * pair.m, grey_c**2 * pair.m], pair.grid
    )
    means = sums / k[..., None]
    level, spread = means[..., 1], np.sqrt(np.maximum(means[..., 3] - means[..., 2] ** 2, 0.0))
    extreme = (level <= CRUSHED_LEVEL) | (level >= 255 - CRUSHED_LEVEL)
    out: np.ndarray = (means[..., 0] >= CLIPPED_TILE) | (extreme & (spread < FLAT_STD))
    return out


def _as_sharp(rgb: np.ndarray, other: np.ndarray, sigma: float, m: np.ndarray) -> np.ndarray:
    """``rgb`` blurred by ``sigma`` and by the largest of EXTRA_BLUR that leaves it with no
    less edge energy (over ``m``) than ``other``: a blurred copy's sharpness."""

    def energy(image: np.ndarray) -> float:
        g = (image[..., 0] + image[..., 1] + image[..., 2]) / 3
        mag = cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
        return float((mag * m).sum() / max(1.0, float(m.sum())))

    target = energy(other)
    chosen = cv2.GaussianBlur(rgb, (0, 0), sigma)
    for extra in EXTRA_BLUR[1:]:
        blurred = cv2.GaussianBlur(rgb, (0, 0), float(np.hypot(sigma, extra)))
        if energy(blurred) < target:
            break
        chosen = blurred
    return chosen


def _colour_residual(
    o: np.ndarray, c: np.ndarray, m: np.ndarray, grid: tuple[int, int]
) -> np.ndarray:
    """Per tile: the largest share of ``o``'s colour variance (in one direction of colour,
    plus UNEXPLAINED_NOISE) that an affine map of ``c``'s colours leaves unexplained; where
    that is over UNEXPLAINED (all the callers ask), the best of ``c``'s one-pixel shifts (what
    is left of the fit's misalignment along a sharp edge). ``o``, ``c``: float32 RGB; ``m``:
    pixel weights."""
    cols, rows = grid
    t = TILE_PX
    h, w = rows * t, cols * t  # whole tiles (``_half``'s frame is)
    # About mid-grey: the moments are of differences, and float32 rounds less near 0.
    padded = cv2.copyMakeBorder(c, 1, 1, 1, 1, cv2.BORDER_REPLICATE) - np.float32(128)
    s0, s1, s2 = padded.strides
    # Each tile of the candidate with a pixel around it: (rows, cols, t + 2, t + 2, 3).
    around = as_strided(
        padded, (rows, cols, t + 2, t + 2, 3), (t * s0, t * s1, s0, s1, s2), writeable=False
    )
    ours = _by_tile(o[:h, :w] - np.float32(128), t)
    weights = _by_tile(m[:h, :w, None], t)
    left = _left_unexplained(ours, around[:, :, 1 : t + 1, 1 : t + 1], weights)
    far = np.nonzero(left > UNEXPLAINED)
    if far[0].size:
        theirs, ours, weights = around[far], ours[far], weights[far]
        best = left[far]
        for dy, dx in ((y, x) for y in range(3) for x in range(3) if (y, x) != (1, 1)):
            shifted = theirs[:, dy : dy + t, dx : dx + t]
            best = np.minimum(best, _left_unexplained(ours, shifted, weights))
        left[far] = best
    return left


def _by_tile(image: np.ndarray, t: int) -> np.ndarray:
    """An (h, w, n) image of whole t-by-t tiles as (rows, cols, t, t, n)."""
    h, w, n = image.shape
    out: np.ndarray = image.reshape(h // t, t, w // t, t, n).swapaxes(1, 2)
    return out


def _left_unexplained(o: np.ndarray, c: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``_colour_residual`` of tiles as they are (..., t, t, 3 colours or 1 weight), shifts
    aside: each tile's weighted moments of [o, 1, c] at once (one small matrix product)."""
    shape, pixels = o.shape[:-3], o.shape[-3] * o.shape[-2]
    x = np.concatenate([o, np.ones_like(m), c], axis=-1).reshape(-1, pixels, 7)
    weights = m.reshape(len(x), -1, 1)
    gram = (np.swapaxes(x * weights, 1, 2) @ x).astype(np.float64)
    gram /= np.maximum(gram[:, 3:4, 3:4], 1e-6)
    mean = gram[:, 3]
    cov = gram - mean[:, :, None] * mean[:, None, :]
    cov_o, cov_c, cross = cov[:, :3, :3], cov[:, 4:, 4:], cov[:, 4:, :3]
    # Whitened by the original's own variance: any direction of colour weighs alike.
    whiten = np.linalg.inv(np.linalg.cholesky(cov_o + np.eye(3) * UNEXPLAINED_NOISE))
    # What the best affine map of the candidate's colours leaves of the original's.
    fitted = np.swapaxes(cross, -1, -2) @ np.linalg.inv(cov_c + np.eye(3) * 4.0) @ cross
    left = whiten @ (cov_o - fitted) @ np.swapaxes(whiten, -1, -2)
    out: np.ndarray = np.linalg.eigvalsh(left)[:, -1].reshape(shape)
    return out
