"""The pair in colour (``_in_colour``) and what colour alone can tell: where no colour map of
the candidate's tile makes the original's (``_unexplained``), how much of the original is so
left unmade (``_unmade``), and the original's own colours gone (``_colours_gone``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from atlas_core.vision.compare.align import _Fit, _native, _tiled
from atlas_core.vision.compare.frame import Frame
from atlas_core.vision.compare.tiles import (
    _Agreement,
    _near,
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
    CLIPPED_TILE,
    COMMON_TILE,
    CRUSHED_LEVEL,
    EXTRA_BLUR,
    FLAT_STD,
    GONE_CHROMA,
    GONE_MIN,
    RARE_TILE,
    TILE_PX,
    UNEXPLAINED,
    UNEXPLAINED_NOISE,
    UNMADE_MIN,
)


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
    inside the covered area, not the candidate's overlay: its colours the original lacks)."""
    theirs = cv2.GaussianBlur(pair.candidate, (0, 0), pair.sigma)
    ours = _as_sharp(pair.original, theirs, pair.sigma, pair.m)
    return _colour_residual(ours, theirs, pair.m, pair.grid), pair.inside & ~pair.overlay


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
    if _greyed(pair):
        return 0  # a copy in grey (or near it): colour cannot tell where its title went
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
    tiles a colour edit clipped (``_crushed``). 0 for a candidate in grey (``_greyed``): its
    tiles are all one colour map short."""
    if _greyed(pair):
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
    largest = _largest_patch(unmade)
    if largest < UNMADE_MIN:
        return largest  # ``_crushed`` only takes tiles away: not worth making
    return _largest_patch(unmade & ~_crushed(pair))


def _largest_patch(tiles: np.ndarray) -> int:
    """The most ``tiles`` side by side (4-connected)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(tiles.astype(np.uint8), connectivity=4)
    return int(stats[1:, cv2.CC_STAT_AREA].max()) if count > 1 else 0


def _crushed(pair: _InColour) -> np.ndarray:
    """Per tile: the original's shadows or highlights (a mean within CRUSHED_LEVEL of black
    or white) that the candidate shows flat (FLAT_STD), or at black or white (CLIP_LEVEL) in
    CLIPPED_TILE of its pixels where the original is not: a colour edit clipped them, at
    whatever level its later steps (an offset) left them, and no affine map undoes a clip."""
    k = pair.weight

    def clipped(rgb: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.any((rgb <= CLIP_LEVEL) | (rgb >= 255 - CLIP_LEVEL), axis=-1)
        return out

    new = (clipped(pair.candidate) & ~clipped(pair.original)).astype(np.float32)
    grey_o, grey_c = pair.original.mean(axis=-1), pair.candidate.mean(axis=-1)
    sums = _tile_means(
        [new * pair.m, grey_o * pair.m, grey_c * pair.m, grey_c**2 * pair.m], pair.grid
    )
    means = sums / k[..., None]
    level, spread = means[..., 1], np.sqrt(np.maximum(means[..., 3] - means[..., 2] ** 2, 0.0))
    extreme = (level <= CRUSHED_LEVEL) | (level >= 255 - CRUSHED_LEVEL)
    out: np.ndarray = (means[..., 0] >= CLIPPED_TILE) | (extreme & (spread < FLAT_STD))
    return out


def _greyed(pair: _InColour) -> bool:
    """Whether the candidate kept less than GONE_CHROMA of the original's colourfulness (the
    mean of max(R, G, B) - min(R, G, B) over the covered pixels): a copy in grey, or near it."""

    def chroma(rgb: np.ndarray) -> float:
        r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
        return float(
            ((np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)) * pair.m).sum()
        )

    return chroma(pair.candidate) < GONE_CHROMA * chroma(pair.original)


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
    plus UNEXPLAINED_NOISE) that an affine map of ``c``'s colours leaves unexplained, the
    best of ``c``'s one-pixel shifts. ``o``, ``c``: float32 RGB; ``m``: pixel weights."""
    cols, rows = grid
    t = TILE_PX
    h, w = rows * t, cols * t  # whole tiles (``_half``'s frame is)
    m = m[:h, :w]

    def tile_sums(planes: np.ndarray) -> np.ndarray:
        # Down the rows of each tile, then across (contiguous sums: 6x one 4-axis sum).
        lines = planes.reshape(-1, rows, t, w).sum(axis=2)
        out: np.ndarray = lines.reshape(-1, rows, cols, t).sum(axis=3)
        return out

    k = np.maximum(tile_sums(m)[0], 1e-6)
    first, second = np.triu_indices(3)  # the six distinct products of two channels
    planar_o = np.ascontiguousarray(o[:h, :w].transpose(2, 0, 1))
    planar_c = np.ascontiguousarray(
        cv2.copyMakeBorder(c, 1, 1, 1, 1, cv2.BORDER_REPLICATE).transpose(2, 0, 1)
    )

    def moments(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """Per tile: the weighted means of ``x``'s channels, of their products, and (given
        ``y``) of each channel of ``x`` times each of ``y``: (rows, cols, 9 [+ 9])."""
        xm = x * m
        planes = [xm, xm[first] * x[second]]
        if y is not None:
            planes.append((xm[:, None] * y[None]).reshape(9, h, w))
        sums = tile_sums(np.concatenate(planes)) / k
        out: np.ndarray = sums.transpose(1, 2, 0)
        return out

    def covariance(sums: np.ndarray) -> np.ndarray:
        mean = sums[..., :3]
        cov = np.empty((*mean.shape[:2], 3, 3), np.float64)
        products = sums[..., 3:9] - mean[..., first] * mean[..., second]
        cov[..., first, second] = products
        cov[..., second, first] = products
        return cov

    own = moments(planar_o)
    mean_o, cov_o = own[..., :3], covariance(own)
    # Whitened by the original's own variance: any direction of colour weighs alike.
    whiten = np.linalg.inv(np.linalg.cholesky(cov_o + np.eye(3) * UNEXPLAINED_NOISE))
    best = None
    for dy in range(3):
        for dx in range(3):
            sums = moments(planar_c[:, dy : dy + h, dx : dx + w], planar_o)
            cov_c = covariance(sums)
            cross = sums[..., 9:].reshape((*sums.shape[:2], 3, 3))
            cross = cross - sums[..., :3, None] * mean_o[..., None, :]
            # What the best affine map of the candidate's colours leaves of the original's.
            fitted = np.swapaxes(cross, -1, -2) @ np.linalg.inv(cov_c + np.eye(3) * 4.0) @ cross
            left = whiten @ (cov_o - fitted) @ np.swapaxes(whiten, -1, -2)
            share = np.linalg.eigvalsh(left)[..., -1]
            best = share if best is None else np.minimum(best, share)
    out: np.ndarray = best if best is not None else np.zeros(grid[::-1])
    return out
