"""Another palette of one layout is no colour edit (``_recoloured``): the one colour edit of
the whole image that best makes the candidate of the original, and how many tiles it leaves
far off.
"""

from __future__ import annotations

import cv2
import numpy as np

from atlas_core.vision.compare.colour import _InColour
from atlas_core.vision.compare.hues import _hue_turn, _hue_turns
from atlas_core.vision.compare.tiles import _Agreement
from atlas_core.vision.compare.tuning import (
    AGREE_NCC,
    CLIP_LEVEL,
    HUE_MIN_TURN,
    OVERLAY_MAX,
    RECOLOURED_KEEP,
    RECOLOURED_LEVELS,
    RECOLOURED_MIN,
    RECOLOURED_OFF,
    RECOLOURED_PIXELS,
    RECOLOURED_ROUNDS,
    RECOLOURED_STEP,
    TILE_PX,
)


def _recoloured(pair: _InColour, agreement: _Agreement) -> int:
    """How many tiles of the original the one colour edit of the whole image that best makes
    the candidate from it (``_colour_edit``, after turning its hues by the candidate's common
    turn when there is one) leaves RECOLOURED_OFF or more off, at their mean; ``pair``: the
    two aligned in colour (``_in_colour``), ``agreement``: theirs in grey. Judged: the tiles
    well inside the covered area, flat ones too (a gradient, a backdrop), but not where the
    candidate differs in grey (``_Agreement.ncc``: a title of its own) nor its overlay.
    Tiles are taken at their best one-pixel shift only when that can change the decision
    (RECOLOURED_MIN or more off without it)."""
    overlay = pair.overlay
    if int(overlay.sum()) > OVERLAY_MAX * max(1, int(pair.inside.sum())):
        overlay = np.zeros_like(overlay)  # recoloured all over: no overlay of its own
    judged = pair.inside & ~overlay
    a = agreement
    if a.ncc is not None and a.judged is not None and a.ncc.shape == judged.shape:
        judged &= ~(a.judged & (a.ncc < AGREE_NCC))
    cols, rows = pair.grid
    t = TILE_PX
    ours = cv2.GaussianBlur(pair.original, (0, 0), pair.sigma)[: rows * t, : cols * t]
    theirs = cv2.GaussianBlur(pair.candidate, (0, 0), pair.sigma)[: rows * t, : cols * t]
    weights = pair.m[: rows * t, : cols * t]
    pixels = np.flatnonzero(np.kron(judged, np.ones((t, t), bool)) & (weights > 0.5))
    if pixels.size < RECOLOURED_PIXELS * RECOLOURED_STEP:
        return 0
    pixels = pixels[::RECOLOURED_STEP]  # of the judged pixels, the ones sampled
    target = theirs.reshape(-1, 3)[pixels].astype(np.float64)
    covered = cv2.resize(weights, pair.grid, interpolation=cv2.INTER_AREA)
    limit = RECOLOURED_OFF * np.maximum(covered, 1e-6)
    shifted = cv2.copyMakeBorder(theirs, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
    h, w = weights.shape

    def off(made: np.ndarray, dy: int, dx: int) -> np.ndarray:
        """Per tile: the weighted sum of how far ``made`` is from the candidate shifted."""
        d = shifted[dy : dy + h, dx : dx + w] - made
        far = np.sqrt(d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1] + d[..., 2] * d[..., 2])
        out: np.ndarray = cv2.resize(far * weights, pair.grid, interpolation=cv2.INTER_AREA)
        return out

    fewest = int(judged.sum())
    for turn in (0.0, None):
        if turn is None:  # the common hue turn, tried only when no edit without it makes it
            every = _hue_turns(pair.labels, pair.mask)
            turn = 0.0 if every is None else float(np.median(every))
            if abs(turn) < HUE_MIN_TURN:
                break
        source = (_hue_turn(ours, turn) if turn else ours).astype(np.float64)
        sample = source.reshape(-1, 3)[pixels]
        g, offset = _colour_edit(sample, target)
        # The edit, pixel by pixel (``colours @ g.T + offset``; numpy's product of an (n, 3)
        # by a 3x3 takes some 30 times as long).
        edit = np.hstack([g, offset[:, None]])
        curves = _tone_curves(cv2.transform(sample[:, None], edit)[:, 0], target)
        edited = cv2.transform(source, edit).reshape(-1, 3)
        made = _toned(edited, curves).reshape(h, w, 3).astype(np.float32)
        tiles = off(made, 1, 1)
        if int((judged & (tiles >= limit)).sum()) >= RECOLOURED_MIN:
            # Each tile at its best one-pixel shift: what is left of the fit's misalignment
            # shows along every sharp edge of a busy design (stripes, dots) as colour off.
            for dy, dx in ((y, x) for y in range(3) for x in range(3) if (y, x) != (1, 1)):
                tiles = np.minimum(tiles, off(made, dy, dx))
        fewest = min(fewest, int((judged & (tiles >= limit)).sum()))
        if fewest < RECOLOURED_MIN:
            break  # one edit makes it: no need to try the hue turn
    return fewest


def _edits() -> np.ndarray:
    """The colour edits ``_colour_edit`` combines, as 3x3 maps of RGB: the colour itself
    (brightness, contrast), its turn about the grey axis (hue), its grey on that axis and its
    luma (saturation about either): (4, 3, 3)."""
    k = np.ones(3) / np.sqrt(3.0)
    turn = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    luma = np.outer(np.ones(3), [0.299, 0.587, 0.114])
    return np.stack([np.eye(3), turn, np.outer(k, k), luma])


_EDITS = _edits()


def _tone_curves(made: np.ndarray, target: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per channel, the rising curve that best takes the edit's colours (``made``, before
    clipping) to ``target``'s: each step of an edit clips at black and white (a saturated
    red at 255 before a cast pulls it down), and filters bend tone curves. The median
    target of RECOLOURED_LEVELS levels of ``made``, made non-decreasing: (levels, values)."""
    curves = []
    size = len(made) // RECOLOURED_LEVELS * RECOLOURED_LEVELS
    for j in range(3):
        order = np.argsort(made[:, j], kind="stable")[:size]
        # Equal counts of pixels a level: sorted, then cut into RECOLOURED_LEVELS runs.
        levels = np.median(made[order, j].reshape(RECOLOURED_LEVELS, -1), axis=1)
        values = np.median(target[order, j].reshape(RECOLOURED_LEVELS, -1), axis=1)
        curves.append((levels, np.maximum.accumulate(values)))
    return curves


def _toned(made: np.ndarray, curves: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """``made`` ((n, 3)) through ``_tone_curves``' curves, within 0..255."""
    out = np.empty_like(made)
    for j, (levels, values) in enumerate(curves):
        out[:, j] = np.interp(made[:, j], levels, values)
    clipped: np.ndarray = np.clip(out, 0.0, 255.0)
    return clipped


def _colour_edit(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The colour edit ``target = source @ G.T + offset`` ((n, 3) float64 colours each) that
    fits best, G a combination of ``_EDITS`` and the offset a colour cast (and contrast's
    pivot), by least squares that leaves out the pixels it explains worst (what the
    candidate drew over the original): (G, offset)."""
    # A clipped channel (blown out, crushed) says nothing of the edit's map, whose colours are
    # clipped to 0..255 as an edited image's are (a brightened sky blows out to white).
    keep = ((target > CLIP_LEVEL) & (target < 255 - CLIP_LEVEL)).all(axis=1)
    if int(keep.sum()) < RECOLOURED_PIXELS:
        keep = np.ones(len(source), bool)
    g, offset = np.eye(3), np.zeros(3)
    # Channel by channel (3, n): the sums below run along contiguous rows.
    xs, ys = np.ascontiguousarray(source.T), np.ascontiguousarray(target.T)
    for _ in range(RECOLOURED_ROUNDS):
        if int(keep.sum()) < RECOLOURED_PIXELS:
            break  # too few pixels left to fit: the last fit stands
        x, y = np.compress(keep, xs, axis=1), np.compress(keep, ys, axis=1)
        mx, my = x.mean(axis=1), y.mean(axis=1)
        x -= mx[:, None]
        y -= my[:, None]
        cxx, cyx = x @ x.T, y @ x.T
        # Normal equations in the edits' weights: <B_p X, B_q X> and <Y, B_p X>.
        normal = np.einsum("pij,qik,kj->pq", _EDITS, _EDITS, cxx)
        right = np.einsum("pij,ij->p", _EDITS, cyx)
        weights = np.linalg.solve(normal + np.eye(len(_EDITS)) * 1e-6, right)
        g = np.einsum("p,pij->ij", weights, _EDITS)
        offset = my - g @ mx
        d = ys - np.clip(g @ xs + offset[:, None], 0.0, 255.0)
        off = np.sqrt(np.einsum("ij,ij->j", d, d))
        keep &= off <= max(RECOLOURED_KEEP, float(np.quantile(off, 0.9)))
    return g, offset
