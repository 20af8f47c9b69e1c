"""The decision: ``compare_frames`` runs the steps (``align``, ``tiles``, ``palette``,
``colour``, ``lookalike``) and says why (``Comparison``); ``compare`` on two images' bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial

from atlas_core.vision.compare.align import _aligned, _fits
from atlas_core.vision.compare.colour import (
    _colours_gone,
    _in_colour,
    _pattern_unexplained,
    _unexplained,
    _unmade,
)
from atlas_core.vision.compare.frame import Frame
from atlas_core.vision.compare.lookalike import _lookalike
from atlas_core.vision.compare.palette import _recoloured
from atlas_core.vision.compare.tuning import (
    GONE_MIN,
    LETTERED_SCORE,
    MIN_QUALITY,
    RECOLOURED_MIN,
    REFERENCES,
    THRESHOLD,
    UNMADE_MIN,
)
from atlas_core.vision.preprocess import Prepared


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
    share: float = 0.0  # share of textured tiles that agree
    conflicts: int = 0  # tiles where both images are detailed (a title, a face), and differ
    textured: int = 0  # the original's textured tiles in the covered area
    # Of the conflicts: tiles where the original's own colours (rare in what the two share:
    # a title's, an emblem's) are missing from the candidate, which shows shared ones there.
    coloured: int = 0
    # Of the conflicts: tiles where both images hold far more corners than their typical tile
    # (letters: two titles) and differ.
    lettered: int = 0


def compare_frames(
    original: Frame, candidate: Frame, references: Sequence[Frame] = ()
) -> Comparison:
    """``compare`` on frames already prepared (to reuse one side many times, or a stored one).

    ``references``: other videos near the candidate (the hunt's other stage-1 neighbours),
    nearest first. A pair that would be a duplicate is not when, where one of them differs
    from the original, the candidate differs too (``_lookalike``): another video of the
    same design, not a copy."""
    q = min(original.prepared.quality, candidate.prepared.quality)
    if q < MIN_QUALITY:
        return Comparison(False, 0.0, q, "featureless image (flat, near-uniform or tiny)")
    fits = _fits(original, candidate)
    if not fits:
        return Comparison(False, 0.0, q, "no geometric match")
    valid = _aligned(fits)
    best = max(valid or fits, key=lambda f: f.score)
    # The pair in colour, once: the broken pattern's colour maps, the palette check, the
    # colours gone, the original unmade and the look-alikes read it. Its colour residual
    # (``_unexplained``, some 4 ms) is made once, when a rule comes to need it (``_unmade``
    # does, for any pair not already turned down in colour, unless the candidate is grey).
    in_colour = None
    unexplained = None
    if valid and best.score < THRESHOLD and best.agreement.pattern is not None:
        in_colour = _in_colour(original, candidate, best)
        if in_colour is not None:
            unexplained = cache(partial(_unexplained, in_colour))
            best = replace(best, agreement=_pattern_unexplained(unexplained, best.agreement))
    score = best.score if valid else best.score * 0.5
    duplicate = bool(valid) and score >= THRESHOLD
    a = best.agreement
    if duplicate and in_colour is None:
        in_colour = _in_colour(original, candidate, best)
    if not duplicate:
        in_colour = unexplained = None
    recoloured = gone = unmade = 0
    if in_colour is not None:
        if unexplained is None:
            unexplained = cache(partial(_unexplained, in_colour))
        recoloured = _recoloured(in_colour, a)
        if recoloured < RECOLOURED_MIN:
            gone = _colours_gone(in_colour, unexplained, a)
        if recoloured < RECOLOURED_MIN and gone < GONE_MIN:
            unmade = _unmade(in_colour, unexplained, a)
    if recoloured >= RECOLOURED_MIN or gone >= GONE_MIN or unmade >= UNMADE_MIN:
        duplicate, score = False, min(score, LETTERED_SCORE)
    lookalike = None
    if duplicate and references:
        others = [r for r in references if r is not original and r is not candidate]
        lookalike = _lookalike(original, candidate, best, unexplained, others[:REFERENCES])
        if lookalike is not None:
            duplicate, score = False, min(score, LETTERED_SCORE)
    if not valid:
        reason = f"images overlap too little (coverage {best.coverage:.2f})"
    elif recoloured >= RECOLOURED_MIN:
        reason = (
            f"no one colour edit of the whole image makes the candidate of the original "
            f"({recoloured} places far off): another palette of the same layout "
            f"(score {score:.2f})"
        )
    elif gone >= GONE_MIN:
        reason = (
            f"the original's own colours (a title, an emblem) gone in {gone} places, where no "
            f"colour map of the candidate's makes them: another video in the same template "
            f"(score {score:.2f})"
        )
    elif unmade >= UNMADE_MIN:
        reason = (
            f"no colour map of the candidate's makes the original in {unmade} places, though "
            f"grey agrees: another title or palette on the same design (score {score:.2f})"
        )
    elif lookalike is not None:
        reason = (
            f"where another video near it differs from the original, {lookalike}: "
            f"another video in the same design (score {score:.2f})"
        )
    elif duplicate:
        reason = "aligned content agrees"
    elif a.coloured and a.share >= THRESHOLD:
        reason = (
            f"shared design, the original's own colours (a title, an emblem) missing in "
            f"{a.coloured} places: another video in the same template (score {score:.2f} "
            f"< {THRESHOLD})"
        )
    elif a.lettered and a.share >= THRESHOLD:
        reason = (
            f"shared design, lettering differs in {a.lettered} places (another title): "
            f"another video in the same template (score {score:.2f} < {THRESHOLD})"
        )
    elif a.conflicts and score >= 0.75:
        reason = (
            f"shared background, detail differs in {a.conflicts} places (a title, a face): "
            f"another video in the same template (score {score:.2f} < {THRESHOLD})"
        )
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
        matches=tuple((a, b, c, d) for a, b, c, d in best.points.tolist()),
        share=round(a.share, 4),
        conflicts=a.conflicts,
        textured=a.textured,
        coloured=a.coloured,
        lettered=a.lettered,
    )


def compare_prepared(original: Prepared, candidate: Prepared) -> Comparison:
    """``compare`` on images already through ``prepare``."""
    return compare_frames(Frame.from_prepared(original), Frame.from_prepared(candidate))


def compare(original: bytes, candidate: bytes) -> Comparison:
    """Decide whether ``candidate`` (JPEG/PNG/WebP bytes) is an edited copy of ``original``.

    Raises ValueError naming the image that cannot be decoded."""
    try:
        a = Frame.of(original)
    except ValueError as exc:
        raise ValueError(f"original: {exc}") from None
    try:
        b = Frame.of(candidate)
    except ValueError as exc:
        raise ValueError(f"candidate: {exc}") from None
    return compare_frames(a, b)
