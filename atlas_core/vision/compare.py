"""The hunt's one decision: is ``candidate`` a re-upload (edited copy) of ``original``?

    from atlas_core.vision import compare
    result = compare(original_jpeg, candidate_jpeg)
    result.duplicate, result.score        # bool, 0..1 (higher = more alike)

How it decides:
1. Both images are decoded, their bars and uniform borders trimmed, and brought to a working
   size in grey (``preprocess``). A featureless image (flat, near-uniform, tiny) has a low
   quality score and is never a duplicate.
2. ORB keypoints are matched (ratio test) against the candidate and its mirror image, and an
   affine transform (rotation, scale, shift, a bounded stretch; no reflection) is fitted with
   RANSAC. That absorbs crops, downscales, borders, small rotations, stretching and mirroring.
3. The candidate is warped onto the original and the two are compared tile by tile (blurred,
   locally normalised correlation, so colour shifts, re-encoding and blur do not matter). The
   score is the share of the original's textured tiles that agree. (The original's texture
   is the reference, so ``compare`` is not symmetric: the hunt passes the already
   stored video's frame as the original.) A copy with a logo or caption on it keeps
   most tiles; a thumbnail made from the same template with another title, another crop of
   one photo, or another image with the same layout does not.
A duplicate needs: enough RANSAC inliers (or, when too few keypoints match, the plain
full-frame alignment), both images mostly covered by the other, and score >= THRESHOLD.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from atlas_core.vision.preprocess import Prepared, prepare

THRESHOLD = 0.8  # share of agreeing textured tiles for a duplicate
MIN_QUALITY = 0.04  # below: featureless, never a duplicate
MIN_INLIERS = 12
MIN_COVERAGE = 0.5  # share of each image that the other one covers once aligned
TILE_GRID = 10
TILE_BLUR = 2.0
FLAT_STD = 5.0
AGREE_NCC = 0.7
RATIO = 0.8
RANSAC_PX = 5.0
MAX_STRETCH = 1.35  # largest ratio of the fitted transform's two scales
MAX_FULL_FRAME_ASPECT = 0.12  # full-frame fallback only for alike aspect ratios


def _detector() -> cv2.ORB:
    # A new detector per call: OpenCV's feature objects are not safe to share across threads.
    orb: cv2.ORB = cv2.ORB.create(nfeatures=1500, fastThreshold=12, edgeThreshold=15, patchSize=31)
    return orb


@dataclass(frozen=True)
class Comparison:
    duplicate: bool
    score: float  # 0..1, higher = more alike
    quality: float  # the lower of the two images' quality scores
    reason: str  # why the decision came out as it did
    inliers: int = 0
    mirrored: bool = False
    coverage: float = 0.0  # the lower of the two coverages
    # Matched keypoints (RANSAC inliers), (x_orig, y_orig, x_cand, y_cand) in each image's
    # trimmed working frame: for evidence images.
    matches: tuple[tuple[float, float, float, float], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class _Features:
    keypoints: np.ndarray  # (N, 2) float32
    descriptors: np.ndarray | None


def _features(gray: np.ndarray) -> _Features:
    kps, des = _detector().detectAndCompute(gray, None)
    pts = np.array([kp.pt for kp in kps], dtype=np.float32).reshape(-1, 2)
    return _Features(pts, des)


def _match(a: _Features, b: _Features) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-test matches: points in ``a`` and the matching points in ``b``."""
    if a.descriptors is None or b.descriptors is None or len(a.keypoints) < 2:
        return np.empty((0, 2), np.float32), np.empty((0, 2), np.float32)
    if len(b.keypoints) < 2:
        return np.empty((0, 2), np.float32), np.empty((0, 2), np.float32)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    src = np.array([a.keypoints[m.queryIdx] for m in good], np.float32).reshape(-1, 2)
    dst = np.array([b.keypoints[m.trainIdx] for m in good], np.float32).reshape(-1, 2)
    return src, dst


def _tiles_agreement(orig: np.ndarray, warped: np.ndarray, mask: np.ndarray, sigma: float) -> float:
    """Share of the original's textured tiles in the covered area that correlate with the
    aligned candidate (blurred with ``sigma``: the coarser of the two images' detail)."""
    a = cv2.GaussianBlur(orig.astype(np.float32), (0, 0), sigma)
    b = cv2.GaussianBlur(warped.astype(np.float32), (0, 0), sigma)
    # Keep clear of the candidate's edges: blur smears what lies beyond them (fill left by a
    # rotation, bars, borders) into the picture.
    margin = int(np.ceil(2 * sigma)) + 1
    mask = cv2.erode(mask, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    h, w = a.shape
    ys = np.linspace(0, h, TILE_GRID + 1).astype(int)
    xs = np.linspace(0, w, TILE_GRID + 1).astype(int)
    textured = agree = 0
    for i in range(TILE_GRID):
        for j in range(TILE_GRID):
            sl = (slice(ys[i], ys[i + 1]), slice(xs[j], xs[j + 1]))
            valid = mask[sl].astype(bool)
            if valid.mean() < 0.5:
                continue
            ta, tb = a[sl][valid], b[sl][valid]
            sa, sb = float(ta.std()), float(tb.std())
            if sa < FLAT_STD:
                continue
            textured += 1
            cov = float(((ta - ta.mean()) * (tb - tb.mean())).mean())
            ncc = cov / np.sqrt((sa * sa + 4.0) * (sb * sb + 4.0))
            if ncc >= AGREE_NCC:
                agree += 1
    return agree / textured if textured else 0.0


@dataclass(frozen=True)
class _Fit:
    score: float
    coverage: float
    inliers: int
    mirrored: bool
    matches: tuple[tuple[float, float, float, float], ...]
    full_frame: bool


def _evaluate(
    orig: Prepared, cand: np.ndarray, native: float, matrix: np.ndarray
) -> tuple[float, float]:
    """(agreement score, min coverage) of ``cand`` warped by ``matrix`` onto ``orig``.
    ``native``: the candidate's work-size pixels per pixel it was served with."""
    # One pixel of the candidate as served spans this many pixels of the original's frame:
    # blur both to that detail so a small copy is not penalised for being small.
    spread = native * float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    sigma = TILE_BLUR * max(1.0, spread)
    h, w = orig.gray.shape
    ch, cw = cand.shape
    warped = cv2.warpAffine(cand, matrix, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(np.ones((ch, cw), np.uint8), matrix, (w, h), flags=cv2.INTER_NEAREST)
    inverse = cv2.invertAffineTransform(matrix)
    back = cv2.warpAffine(np.ones((h, w), np.uint8), inverse, (cw, ch), flags=cv2.INTER_NEAREST)
    coverage = min(float(mask.mean()), float(back.mean()))
    return _tiles_agreement(orig.gray, warped, mask, sigma), coverage


def _native(p: Prepared, untrimmed: bool = False) -> float:
    """Working-size pixels per pixel of the image as served."""
    if untrimmed:
        return float(max(p.untrimmed.shape) / max(p.original_shape))
    return float(max(p.gray.shape) / max(p.trimmed_shape))


def _fit(
    orig: Prepared, of: _Features, cand: np.ndarray, native: float, mirrored: bool
) -> _Fit | None:
    cf = _features(cand)
    src, dst = _match(cf, of)
    if len(src) < MIN_INLIERS:
        return None
    # Affine: a copy may be stretched (a border added, then resized to 16:9), but only a
    # little, and never sheared or flipped (the mirror is tried separately).
    matrix, inl = cv2.estimateAffine2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX, maxIters=3000
    )
    if matrix is None or inl is None:
        return None
    keep = inl.ravel().astype(bool)
    count = int(keep.sum())
    singular = np.linalg.svd(matrix[:, :2], compute_uv=False)
    scale = float(np.sqrt(singular[0] * singular[1]))
    if (
        count < MIN_INLIERS
        or not 0.25 <= scale <= 4.0
        or singular[0] / singular[1] > MAX_STRETCH
        or np.linalg.det(matrix[:, :2]) <= 0
    ):
        return None
    score, coverage = _evaluate(orig, cand, native, matrix)
    w = cand.shape[1]
    pairs = tuple(
        (float(d[0]), float(d[1]), float(w - 1 - s[0]) if mirrored else float(s[0]), float(s[1]))
        for s, d in zip(src[keep], dst[keep], strict=True)
    )
    return _Fit(score, coverage, count, mirrored, pairs, False)


def _full_frame(orig: Prepared, cand: Prepared, mirrored: bool) -> list[_Fit]:
    """Align the frames edge to edge (for copies too blurred or small for keypoints): the
    trimmed frames, and the whole frames in case trimming cut uniform content unequally."""
    fits = []
    for o, c, native in (
        (orig, cand.gray, _native(cand)),
        (replace(orig, gray=orig.untrimmed), cand.untrimmed, _native(cand, untrimmed=True)),
    ):
        if mirrored:
            c = np.ascontiguousarray(c[:, ::-1])
        oh, ow = o.gray.shape
        ch, cw = c.shape
        if abs(np.log((ow / oh) / (cw / ch))) > MAX_FULL_FRAME_ASPECT:
            continue
        matrix = np.array([[ow / cw, 0.0, 0.0], [0.0, oh / ch, 0.0]], dtype=np.float64)
        score, coverage = _evaluate(o, c, native, matrix)
        fits.append(_Fit(score, coverage, 0, mirrored, (), True))
    return fits


def compare_prepared(original: Prepared, candidate: Prepared) -> Comparison:
    """``compare`` on images already through ``prepare`` (to reuse one side many times)."""
    q = min(original.quality, candidate.quality)
    if q < MIN_QUALITY:
        return Comparison(False, 0.0, q, "featureless image (flat, near-uniform or tiny)")
    of = _features(original.gray)
    flipped = np.ascontiguousarray(candidate.gray[:, ::-1])
    native = _native(candidate)
    fits = [
        f
        for f in (
            _fit(original, of, candidate.gray, native, False),
            _fit(original, of, flipped, native, True),
        )
        if f is not None
    ]
    # Edge-to-edge alignment when keypoints give no usable fit: copies too blurred or small
    # for them, or repeated patterns (letters) luring RANSAC to a wrong fit.
    if not any(f.coverage >= MIN_COVERAGE for f in fits):
        fits += _full_frame(original, candidate, False) + _full_frame(original, candidate, True)
    if not fits:
        return Comparison(False, 0.0, q, "no geometric match")
    valid = [f for f in fits if f.coverage >= MIN_COVERAGE]
    best = max(valid or fits, key=lambda f: f.score)
    score = best.score if valid else best.score * 0.5
    duplicate = bool(valid) and score >= THRESHOLD
    if not valid:
        reason = f"images overlap too little (coverage {best.coverage:.2f})"
    elif duplicate:
        reason = "aligned content agrees"
    else:
        reason = f"aligned content differs (agreement {score:.2f} < {THRESHOLD})"
    return Comparison(
        duplicate=duplicate,
        score=round(score, 4),
        quality=q,
        reason=reason,
        inliers=best.inliers,
        mirrored=best.mirrored,
        coverage=round(best.coverage, 4),
        matches=best.matches,
    )


def compare(original: bytes, candidate: bytes) -> Comparison:
    """Decide whether ``candidate`` (JPEG/PNG/WebP bytes) is an edited copy of ``original``.

    Raises ValueError naming the image that cannot be decoded."""
    try:
        a = prepare(original)
    except ValueError as exc:
        raise ValueError(f"original: {exc}") from None
    try:
        b = prepare(candidate)
    except ValueError as exc:
        raise ValueError(f"candidate: {exc}") from None
    return compare_prepared(a, b)
