"""Aligning the candidate onto the original: ORB matches and a RANSAC affine fit (the
candidate and its mirror image), refined on the pixels near the cut, or the frames edge to
edge when keypoints fail; each fit judged tile by tile (``_evaluate``). ``_fits``,
``_aligned``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from atlas_core.vision.compare.frame import Frame, _Features, _match
from atlas_core.vision.compare.tiles import Brights, _Agreement, _tiles_agreement
from atlas_core.vision.compare.tuning import (
    COARSE,
    COARSE_NCC,
    COVER_GAP,
    FLAT_STD,
    FLAT_WINDOW,
    MAX_FULL_FRAME_ASPECT,
    MAX_SHIFT,
    MAX_STRETCH,
    MAX_TURN,
    MIN_COVERAGE,
    MIN_INLIERS,
    RANSAC_PX,
    REFINE_BLUR,
    REFINE_EPS,
    REFINE_FROM,
    REFINE_ITERATIONS,
    SLIVER,
    SOLID_INLIERS,
    THRESHOLD,
    TILE_BLUR,
    TILE_PX,
    TILE_SCALE,
)
from atlas_core.vision.preprocess import Prepared


@dataclass(frozen=True)
class _Fit:
    agreement: _Agreement
    coverage: float
    inliers: int
    mirrored: bool
    points: np.ndarray  # (N, 4): x_orig, y_orig, x_cand, y_cand of the RANSAC inliers
    full_frame: bool
    # The candidate's (mirrored: its mirror image's) working frame onto the original's, as
    # judged (refined, when that stood); None for the edge-to-edge fit of the whole frames.
    matrix: np.ndarray | None = field(default=None, repr=False)

    @property
    def score(self) -> float:
        return self.agreement.score


_Margin = tuple[float, float, float, float]  # top, bottom, left, right
_NONE: _Margin = (0.0, 0.0, 0.0, 0.0)


def _half(gray: np.ndarray) -> np.ndarray:
    """The image at TILE_SCALE of the working size, each side a whole number of tiles."""
    h, w = gray.shape
    t = TILE_PX
    size = (t * max(2, round(w * TILE_SCALE / t)), t * max(2, round(h * TILE_SCALE / t)))
    out: np.ndarray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return out


def _tiled(
    orig: np.ndarray, cand: np.ndarray, native: float, matrix: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The two grey frames as they are judged (``_half``), ``matrix`` between them, and the
    blur both get: (original, candidate, transform, sigma)."""
    small_o, small_c = _half(orig), _half(cand)
    # The transform between the half-size images.
    so = np.diag([small_o.shape[1] / orig.shape[1], small_o.shape[0] / orig.shape[0]])
    sc = np.diag([cand.shape[1] / small_c.shape[1], cand.shape[0] / small_c.shape[0]])
    half = np.hstack([so @ matrix[:, :2] @ sc, (so @ matrix[:, 2])[:, None]])
    # One pixel of the candidate as served spans this many pixels of the original's frame:
    # blur both to that detail so a small copy is not penalised for being small.
    spread = native * TILE_SCALE * float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    return small_o, small_c, half, TILE_BLUR * max(1.0, spread)


def _evaluate(
    orig: np.ndarray,
    cand: np.ndarray,
    native: float,
    matrix: np.ndarray,
    colours: tuple[np.ndarray, np.ndarray] | None = None,
    brights: Brights | None = None,
    margins: tuple[_Margin, _Margin] = (_NONE, _NONE),
) -> tuple[_Agreement, float]:
    """(agreement, min coverage) of ``cand`` warped by ``matrix`` onto ``orig`` (both grey at
    the working size; compared at half of it). ``native``: the candidate's work-size pixels
    per pixel it was served with. ``margins``: the uniform bars trimming cut beyond each
    frame (``Prepared.margins``), the original's and the candidate's, which count as covered."""
    small_o, small_c, half, sigma = _tiled(orig, cand, native, matrix)
    h, w = small_o.shape
    ch, cw = small_c.shape
    warped, mask = _warp(small_c, half, (w, h))
    inverse = cv2.invertAffineTransform(half)
    forth = _covered(half, small_c.shape, small_o, _scaled(margins[1], cand, small_c))
    back = _covered(inverse, small_o.shape, small_c, _scaled(margins[0], orig, small_o))
    coverage = min(forth, back)
    pair = None
    if colours is not None and colours[0].size and colours[1].size:
        near = cv2.INTER_NEAREST
        co = cv2.resize(colours[0], (w, h), interpolation=near)
        cc = cv2.resize(colours[1], (cw, ch), interpolation=near)
        pair = (co, cv2.warpAffine(cc, half, (w, h), flags=near))
    light = None
    if brights is not None and all(x.size for x in brights):
        bo, bc = _half(brights[0]), _half(brights[1])
        light = (bo, cv2.warpAffine(bc, half, (w, h), flags=cv2.INTER_LINEAR), brights[2])
    return _tiles_agreement(small_o, warped, mask, sigma, pair, light), coverage


def _scaled(margin: _Margin, gray: np.ndarray, small: np.ndarray) -> tuple[int, int, int, int]:
    """``margin`` (pixels of ``gray``) in pixels of ``small`` (``_half`` of it), whole."""
    sy, sx = small.shape[0] / gray.shape[0], small.shape[1] / gray.shape[1]
    top, bottom, left, right = margin
    return (round(top * sy), round(bottom * sy), round(left * sx), round(right * sx))


def _covered(
    matrix: np.ndarray,
    shape: tuple[int, ...],
    onto: np.ndarray,
    margin: tuple[int, int, int, int],
) -> float:
    """The share of the grey frame ``onto`` that a frame of ``shape`` warped by ``matrix``
    covers, and the ``margin`` (top, bottom, left, right) trimming cut beyond it where
    ``onto`` is flat there: a flat backdrop trimmed from one image's edge (``trim_borders``)
    and kept by the other (its letterboxed or framed copy, whose bars ended the trim) is no
    part missing; a title where the one was trimmed is."""
    size = (onto.shape[1], onto.shape[0])
    ones = np.ones(shape[:2], np.uint8)
    covered = cv2.warpAffine(ones, matrix, size, flags=cv2.INTER_NEAREST).astype(bool)
    if not any(margin):
        return float(covered.mean())
    top, bottom, left, right = margin
    grown = cv2.copyMakeBorder(ones, top, bottom, left, right, cv2.BORDER_CONSTANT, value=1)
    shifted = np.array(matrix, copy=True)
    shifted[:, 2] -= matrix[:, :2] @ np.array([left, top], np.float64)
    beyond = cv2.warpAffine(grown, shifted, size, flags=cv2.INTER_NEAREST).astype(bool)
    return float((covered | (beyond & _flat(onto))).mean())


def _flat(gray: np.ndarray) -> np.ndarray:
    """Where a grey frame is flat: its local deviation (FLAT_WINDOW pixels square) under
    FLAT_STD, as a tile's is where it is not judged."""
    g = gray.astype(np.float32)
    size = (FLAT_WINDOW, FLAT_WINDOW)
    mean = cv2.blur(g, size)
    variance = cv2.blur(g * g, size) - mean * mean
    flat: np.ndarray = variance < FLAT_STD * FLAT_STD
    return flat


def _warp(
    small: np.ndarray, half: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A ``_half``-sized grey frame warped by ``half`` into a frame of ``size`` (w, h), and
    the mask of what it covers there."""
    warped = cv2.warpAffine(small, half, size, flags=cv2.INTER_LINEAR)
    ones = np.ones(small.shape, np.uint8)
    return warped, cv2.warpAffine(ones, half, size, flags=cv2.INTER_NEAREST)


def _onto(original: Frame, other: Frame, fit: _Fit) -> tuple[np.ndarray, np.ndarray, float]:
    """``other`` in grey (its mirror image for a mirrored ``fit``), warped by ``fit`` onto
    the original's frame as ``_evaluate`` judges it: (warped, covered mask, blur sigma).
    ``fit`` must have its matrix (not the edge-to-edge fit of the whole frames)."""
    if fit.matrix is None:
        raise ValueError("a fit without its matrix (the whole frames' edge-to-edge fit)")
    gray = other.prepared.gray
    if fit.mirrored:
        gray = np.ascontiguousarray(gray[:, ::-1])
    small_o, small, half, sigma = _tiled(
        original.prepared.gray, gray, _native(other.prepared), fit.matrix
    )
    h, w = small_o.shape
    warped, mask = _warp(small, half, (w, h))
    return warped, mask, sigma


def _native(p: Prepared, untrimmed: bool = False) -> float:
    """Working-size pixels per pixel of the image as served."""
    if untrimmed:
        return float(max(p.untrimmed.shape) / max(p.original_shape))
    return float(max(p.gray.shape) / max(p.trimmed_shape))


def _fit(
    orig: Frame,
    cf: _Features,
    cand: np.ndarray,
    native: float,
    mirrored: bool,
    cand_colour: np.ndarray | None = None,
    cand_bright: np.ndarray | None = None,
    margins: tuple[_Margin, _Margin] = (_NONE, _NONE),
) -> _Fit | None:
    of = orig.features
    src, dst = _match(cf, of)
    if len(src) < MIN_INLIERS:
        return None
    found = _ransac(src, dst)
    if found is None:
        return None
    matrix, keep = found
    count = int(keep.sum())
    shapes = (orig.prepared.gray.shape, cand.shape)
    if _shifted(matrix, shapes, margins) > MAX_SHIFT:
        return None  # not a copy's fit: one word of two titles matched onto the other
    colours = None if cand_colour is None else (orig.prepared.colour, cand_colour)
    brights = (
        None if cand_bright is None else (orig.prepared.bright, cand_bright, orig.prepared.rgb)
    )
    agreement, coverage, matrix = _judged(
        orig.prepared.gray, cand, native, matrix, colours, brights, margins
    )
    pts = np.hstack([dst[keep], src[keep]]).astype(np.float64)
    if mirrored:
        pts[:, 2] = cand.shape[1] - 1 - pts[:, 2]
    return _Fit(agreement, coverage, count, mirrored, pts, False, matrix)


def _ransac(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The fit of matched keypoints ``src`` onto ``dst`` by RANSAC, with MIN_INLIERS inliers
    or more and a copy's (``_plausible``): (matrix, inlier mask), or None.

    Affine first: a copy may be stretched (a border added, then resized to 16:9), but only a
    little, and never sheared or flipped (the mirror is tried separately). Keypoints along one
    line (a one-line title on a plain design) leave an affine fit's other axis free, and RANSAC
    flattens or shears it: then the similarity fit (a turn, one scale, a shift), which a line
    of keypoints determines; a stretch it leaves is taken up by the refinement on the pixels
    (``_refine``) when the fit scores near the cut."""
    affine = _estimated(cv2.estimateAffine2D, src, dst)
    if affine is not None:
        return affine
    return _estimated(cv2.estimateAffinePartial2D, src, dst)


def _estimated(
    estimate: Callable[..., tuple[np.ndarray | None, np.ndarray | None]],
    src: np.ndarray,
    dst: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """``estimate`` (an OpenCV 2-D fit) by RANSAC: (matrix, inlier mask) when it has
    MIN_INLIERS inliers or more and is a copy's (``_plausible``), else None."""
    matrix, inl = estimate(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=2000
    )
    if matrix is None or inl is None:
        return None
    keep = inl.ravel().astype(bool)
    if int(keep.sum()) < MIN_INLIERS or not _plausible(matrix):
        return None
    return matrix, keep


def _plausible(matrix: np.ndarray) -> bool:
    """Whether an affine fit (candidate onto original) is a copy's: a scale within 4x either
    way, stretched at most MAX_STRETCH, turned at most MAX_TURN degrees, never sheared into a
    reflection (the mirror is tried separately)."""
    u, singular, vt = np.linalg.svd(matrix[:, :2])
    scale = float(np.sqrt(singular[0] * singular[1]))
    rotation = u @ vt  # the fit's turn, without its scale and stretch
    turn = abs(float(np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))))
    return bool(
        0.25 <= scale <= 4.0
        and singular[0] / singular[1] <= MAX_STRETCH
        and turn <= MAX_TURN
        and np.linalg.det(matrix[:, :2]) > 0
    )


def _shifted(
    matrix: np.ndarray,
    shapes: tuple[tuple[int, ...], tuple[int, ...]],
    margins: tuple[_Margin, _Margin],
) -> float:
    """How far the fit (the candidate's working frame onto the original's; ``shapes``, the
    two frames', original first; ``margins``, the bars trimming cut beyond each, which count
    as frame) moves the candidate's frame off the original's: on either axis, how far the
    middle of one of its sides reaches beyond the original's side while the opposite side's
    middle falls short of the original's by as much, as a share of the original's side (the
    lesser of the two). A copy shows nothing beyond its source's frame: a crop falls short of
    every side, a border or a letterbox (when trimming leaves them) reaches beyond both sides
    of an axis, a turn moves the middles of the sides hardly at all. One word two titles
    share, matched onto each other a line or a few letters apart, moves the frame."""
    (oh, ow), (ch, cw) = shapes[0][:2], shapes[1][:2]
    (ot, ob, ol, orr), (ct, cb, cl, cr) = margins
    # The candidate's frame with its bars: the middles of its sides, onto the original's.
    x0, x1, y0, y1 = -cl, cw + cr, -ct, ch + cb
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    middles = np.array([[mx, y0, 1.0], [mx, y1, 1.0], [x0, my, 1.0], [x1, my, 1.0]])
    (_, top), (_, bottom), (left, _), (right, _) = middles @ matrix.T
    height, width = oh + ot + ob, ow + ol + orr
    beyond_top, beyond_bottom = (-ot - top) / height, (bottom - oh - ob) / height
    beyond_left, beyond_right = (-ol - left) / width, (right - ow - orr) / width
    return float(
        max(
            min(beyond_top, -beyond_bottom),
            min(beyond_bottom, -beyond_top),
            min(beyond_left, -beyond_right),
            min(beyond_right, -beyond_left),
        )
    )


def _judged(
    orig: np.ndarray,
    cand: np.ndarray,
    native: float,
    matrix: np.ndarray,
    colours: tuple[np.ndarray, np.ndarray] | None,
    brights: Brights | None,
    margins: tuple[_Margin, _Margin] = (_NONE, _NONE),
) -> tuple[_Agreement, float, np.ndarray]:
    """``_evaluate`` at ``matrix``; near the cut (REFINE_FROM), at the fit refined on the
    pixels too (``_refine``), the better of the two standing (with its matrix)."""
    agreement, coverage = _evaluate(orig, cand, native, matrix, colours, brights, margins)
    if REFINE_FROM <= agreement.score < THRESHOLD:
        refined = _refine(orig, cand, matrix)
        shapes = (orig.shape, cand.shape)
        if (
            refined is not None
            and _plausible(refined)
            and _shifted(refined, shapes, margins) <= MAX_SHIFT
        ):
            again = _evaluate(orig, cand, native, refined, colours, brights, margins)
            if again[0].score > agreement.score:
                return again[0], again[1], refined
    return agreement, coverage, matrix


def _refine(orig: np.ndarray, cand: np.ndarray, matrix: np.ndarray) -> np.ndarray | None:
    """The fit ``matrix`` (candidate onto original, both grey at the working size) refined on
    the pixels: the affine transform that maximises their correlation (ECC), from ``matrix``
    on, for at most REFINE_ITERATIONS steps. None when ECC fails (the correlation diverges):
    the keypoints' fit then stands alone."""
    # ECC's warp maps the original's pixels onto the candidate's: the fit's inverse.
    warp = cv2.invertAffineTransform(matrix).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, REFINE_ITERATIONS, REFINE_EPS)
    try:
        _, found = cv2.findTransformECC(
            orig.astype(np.float32),
            cand.astype(np.float32),
            warp,
            cv2.MOTION_AFFINE,
            criteria,
            np.ones(cand.shape, np.uint8),  # every pixel of the candidate counts
            REFINE_BLUR,
        )
    except cv2.error:
        return None
    out: np.ndarray = cv2.invertAffineTransform(np.asarray(found)).astype(np.float64)
    return out


def _full_frame(orig: Prepared, cand: Prepared, mirrored: bool) -> list[_Fit]:
    """Align the frames edge to edge (for copies too blurred or small for keypoints): the
    trimmed frames, and the whole frames in case trimming cut uniform content unequally."""
    fits = []
    # (original, candidate, its native scale, its colour planes, whether the whole frames'
    # fit is carried over to the trimmed ones)
    trimmed = (orig, cand.gray, _native(cand), cand.colour, cand.bright)
    variants: list[
        tuple[Prepared, np.ndarray, float, np.ndarray | None, np.ndarray | None, bool]
    ] = [(*trimmed, False)]
    if (_trimmed(orig) or _trimmed(cand)) and _slivers(orig) and _slivers(cand):
        # Trimming cut a few lines alone (a dotted design's rows between its dots at the edge,
        # unequally from two images): the whole frames' fit, carried over to the trimmed
        # frames, judged in colour as any other.
        variants.append((*trimmed, True))
    elif _trimmed(orig) or _trimmed(cand):
        # The whole frames have no colour planes: judged in grey alone, and only when they
        # differ from the trimmed ones (else they would pass what colour turned down).
        whole = replace(orig, gray=orig.untrimmed)
        variants.append((whole, cand.untrimmed, _native(cand, untrimmed=True), None, None, False))
    for o, c, native, cc, cb, carried in variants:
        if mirrored:
            c = np.ascontiguousarray(c[:, ::-1])
            cc = None if cc is None else np.ascontiguousarray(cc[:, ::-1])
            cb = None if cb is None else np.ascontiguousarray(cb[:, ::-1])
        oh, ow = o.gray.shape
        ch, cw = c.shape
        if abs(np.log((ow / oh) / (cw / ch))) > MAX_FULL_FRAME_ASPECT:
            continue
        matrix = np.array([[ow / cw, 0.0, 0.0], [0.0, oh / ch, 0.0]], dtype=np.float64)
        if carried:
            matrix = _whole_onto_trimmed(orig, cand, mirrored)
        colours = None if cc is None else (o.colour, cc)
        brights = None if cb is None else (o.bright, cb, o.rgb)
        # The trimmed frames count the bars trimming cut as covered; the whole ones have none.
        margins = (orig.margins(), cand.margins(mirrored)) if o is orig else (_NONE, _NONE)
        agreement, coverage, _ = _judged(o.gray, c, native, matrix, colours, brights, margins)
        # The trimmed frames' matrix is the one the colour checks align by (``_in_colour``).
        kept = matrix if o is orig else None
        fits.append(_Fit(agreement, coverage, 0, mirrored, np.empty((0, 4)), True, kept))
    return fits


def _slivers(p: Prepared) -> bool:
    """Whether every bar trimming cut from the image is under SLIVER of its side."""
    h, w = p.original_shape
    return all(b < SLIVER * side for b, side in zip(p.bars, (h, h, w, w), strict=True))


def _whole_onto_trimmed(orig: Prepared, cand: Prepared, mirrored: bool) -> np.ndarray:
    """The whole frames' edge-to-edge fit (the candidate's, or its mirror image's, onto the
    original's) as a fit of their trimmed working frames (``gray``)."""

    def onto_whole(p: Prepared, flip: bool) -> tuple[float, np.ndarray]:
        # A trimmed working pixel -> the whole working frame's: (scale, offset), the offset
        # the bars cut before it (``margins``) at the whole frame's scale.
        scale = _native(p, untrimmed=True) / _native(p)
        top, _, left, _ = p.margins(flip)
        return scale, scale * np.array([left, top], float)

    (oh, ow), (ch, cw) = orig.untrimmed.shape, cand.untrimmed.shape
    whole = np.diag([ow / cw, oh / ch])
    a_o, b_o = onto_whole(orig, False)
    a_c, b_c = onto_whole(cand, mirrored)
    return np.hstack([whole * (a_c / a_o), ((whole @ b_c - b_o) / a_o)[:, None]])


def _trimmed(p: Prepared) -> bool:
    """Whether trimming cut bars or a border from the image (``untrimmed`` differs)."""
    return p.trimmed_shape != p.original_shape


def _fits(original: Frame, candidate: Frame) -> list[_Fit]:
    o, c = original.prepared, candidate.prepared
    native = _native(c)
    margins = (o.margins(), c.margins())
    direct = _fit(original, candidate.features, c.gray, native, False, c.colour, c.bright, margins)
    fits = [direct] if direct is not None else []
    # A copy found as it is needs no look at its mirror image.
    if direct is None or direct.coverage < MIN_COVERAGE or direct.score < THRESHOLD:
        flipped = np.ascontiguousarray(c.gray[:, ::-1])
        flipped_colour = np.ascontiguousarray(c.colour[:, ::-1])
        flipped_bright = np.ascontiguousarray(c.bright[:, ::-1])
        mirror = _fit(
            original,
            candidate.mirror,
            flipped,
            native,
            True,
            flipped_colour,
            flipped_bright,
            (o.margins(), c.margins(mirrored=True)),
        )
        fits += [mirror] if mirror is not None else []
    # Edge-to-edge alignment when keypoints give no usable fit: copies too blurred or small
    # for them, or repeated patterns (letters) luring RANSAC to a wrong fit. A cheap look at
    # the thumbnails' coarse layout first: most unrelated images end here.
    if not any(f.coverage >= MIN_COVERAGE for f in fits):
        for mirrored in (False, True):
            if _coarse_alike(o, c, mirrored):
                fits += _full_frame(o, c, mirrored)
    return fits


def _aligned(fits: list[_Fit]) -> list[_Fit]:
    """The fits that may be judged: each image mostly covered by the other (MIN_COVERAGE),
    and none covering COVER_GAP less than a solid fit does (``SOLID_INLIERS``)."""
    valid = [f for f in fits if f.coverage >= MIN_COVERAGE]
    solid = [f.coverage for f in valid if f.inliers >= SOLID_INLIERS]
    if not solid:
        return valid
    return [f for f in valid if f.coverage >= max(solid) - COVER_GAP]


def _coarse(gray: np.ndarray) -> np.ndarray:
    small = cv2.resize(gray, (COARSE[0], COARSE[1]), interpolation=cv2.INTER_AREA)
    v = small.astype(np.float32).ravel()
    v -= v.mean()
    return v / (float(np.linalg.norm(v)) + 1e-6)


def _coarse_alike(o: Prepared, c: Prepared, mirrored: bool) -> bool:
    """Whether the two frames' coarse layouts (trimmed or whole) correlate at all: a copy
    aligned edge to edge does, an unrelated image rarely."""
    for a, b in ((o.gray, c.gray), (o.untrimmed, c.untrimmed)):
        cb = b[:, ::-1] if mirrored else b
        if float(_coarse(a) @ _coarse(np.ascontiguousarray(cb))) >= COARSE_NCC:
            return True
    return False
