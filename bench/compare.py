"""Speed of ``compare`` on prepared frames (as the hunt runs it), against a baseline in the run.

    python bench/compare.py                  # ~600 pairs: copies, template negatives, others
    python bench/compare.py --size 0.3       # fewer

The pairs are ``reupload.build``'s (photos, drawn and designed thumbnails, their edited
copies, template negatives, other bases' copies). Every image is prepared once (``Frame.of``
with its mirror keypoints: the stored side comes from ``compare_frames`` in the product),
then each pair is timed:
- ``compare_frames``: the product's decision;
- the baseline, raw ORB matching as the previous ``compare`` did per pair: 500 keypoints per
  image, ratio-test matching of the candidate and its mirror, a RANSAC affine fit (no tiles).
Last line: ``compare_p50_ms= baseline_p50_ms= ratio= compare_p95_ms= pairs= duplicates_p50_ms=
others_p50_ms= duplicates=`` (the pairs decided duplicates, which run every rule, and the rest).
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from reupload import build, prepared_frames
from templates import fonts_in_use

from atlas_core.vision.compare import compare_frames
from atlas_core.vision.preprocess import prepare


def orb500(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    orb = cv2.ORB.create(nfeatures=500, fastThreshold=12, edgeThreshold=15, patchSize=31)
    kps, des = orb.detectAndCompute(gray, None)
    return np.array([k.pt for k in kps], np.float32).reshape(-1, 2), des


def baseline(a: tuple, b: tuple, bm: tuple) -> int:
    """Raw ORB matching of the candidate and its mirror against the original, RANSAC fit."""
    best = 0
    for pts, des in (b, bm):
        if des is None or a[1] is None or len(des) < 2 or len(a[1]) < 2:
            continue
        pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des, a[1], k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(good) < 12:
            continue
        src = np.array([pts[m.queryIdx] for m in good], np.float32)
        dst = np.array([a[0][m.trainIdx] for m in good], np.float32)
        _, inl = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=5.0)
        best = max(best, int(inl.sum()) if inl is not None else 0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--template-groups", type=int, default=20)
    args = parser.parse_args()
    print(fonts_in_use())  # the designed thumbnails' titles are drawn in them
    pairs = build(args.size, args.seed, args.template_groups)
    frames = prepared_frames(pairs)
    raw: dict[bytes, tuple] = {}
    for img in frames:
        gray = prepare(img).gray
        raw[img] = (orb500(gray), orb500(np.ascontiguousarray(gray[:, ::-1])))
    new, old = [], []
    by_decision: dict[bool, list[float]] = {True: [], False: []}
    for _, _, a, b in pairs:  # interleaved: both see the same load
        t0 = time.perf_counter()
        decided = compare_frames(frames[a], frames[b]).duplicate
        t1 = time.perf_counter()
        baseline(raw[a][0], raw[b][0], raw[b][1])
        t2 = time.perf_counter()
        new.append(1000 * (t1 - t0))
        old.append(1000 * (t2 - t1))
        by_decision[decided].append(1000 * (t1 - t0))
    p50, b50 = float(np.median(new)), float(np.median(old))
    print(f"pairs={len(pairs)} images={len(frames)}")
    for name, ms in (("compare_frames  ", new), ("baseline ORB-500", old)):
        p95 = np.percentile(ms, 95)
        print(f"{name} p50={np.median(ms):.2f} ms mean={np.mean(ms):.2f} p95={p95:.2f}")
    # A pair decided a duplicate runs every rule; the rest mostly end at the fit or the tiles.
    # The hunt's candidates are mostly not copies: its median is the second figure's.
    split = {k: float(np.median(v)) if v else float("nan") for k, v in by_decision.items()}
    print(
        f"compare_p50_ms={p50:.2f} baseline_p50_ms={b50:.2f} ratio={b50 / p50:.2f} "
        f"compare_p95_ms={np.percentile(new, 95):.2f} pairs={len(pairs)} "
        f"duplicates_p50_ms={split[True]:.2f} others_p50_ms={split[False]:.2f} "
        f"duplicates={len(by_decision[True])}"
    )


if __name__ == "__main__":
    main()
