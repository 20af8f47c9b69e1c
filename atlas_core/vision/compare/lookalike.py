"""Look-alikes: the hunt's other stage-1 neighbours show up another video of the original's
design, where one differs from the original and the candidate differs there too
(``_lookalike``, in grey, in lettering and in colour).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache, partial

import cv2
import numpy as np

from atlas_core.vision.compare.align import _aligned, _Fit, _fits, _onto
from atlas_core.vision.compare.colour import _in_colour, _InColour, _unexplained
from atlas_core.vision.compare.frame import Frame
from atlas_core.vision.compare.lettering import _new_lettering
from atlas_core.vision.compare.tiles import _Agreement, _agreement
from atlas_core.vision.compare.tuning import (
    ADDED_GAIN,
    ADDED_MEAN,
    ADDED_SHARE,
    AGREE_NCC,
    LOOKALIKE_COVER,
    LOOKALIKE_DROP,
    LOOKALIKE_INSIDE,
    LOOKALIKE_LETTERING,
    LOOKALIKE_MIN,
    LOOKALIKE_MIN_DROP,
    LOOKALIKE_NCC,
    LOOKALIKE_PASTED,
    SAME_EDIT,
    SHARE_LOOKALIKE,
    UNEXPLAINED,
    UNEXPLAINED_MIN,
    UNEXPLAINED_SHARE,
)


def _lookalike(
    original: Frame,
    candidate: Frame,
    fit: _Fit,
    unexplained: Callable[[], tuple[np.ndarray, np.ndarray]] | None,
    references: Sequence[Frame],
) -> str | None:
    """Why a reference shows the candidate (aligned by ``fit``; ``unexplained``, what makes
    its ``_unexplained`` when it has colour) up as another video of the original's design, or
    None when no reference does: in grey (``_grey_lookalike``, unless the two differ from the
    original alike: ``_same_edit``), in lettering (``_lettering_lookalike``), else in colour
    (``_colour_lookalike``). A reference of another layout does not align or differs
    everywhere, and another copy of the original differs almost nowhere."""
    mine: list[tuple[np.ndarray, np.ndarray] | None] = []  # the pair's, once needed
    for reference in references:
        fits = _aligned(_fits(original, reference))
        if not fits:
            continue
        best = max(fits, key=lambda f: f.score)
        # The look-alike in colour, made once for its lettering or its colours, if needed.
        theirs_in_colour = cache(partial(_in_colour, original, reference, best))
        why = _grey_lookalike(fit.agreement, best.agreement)
        if why is not None and _same_edit(original, candidate, fit, reference, best):
            why = None
        if why is None:
            lettered = best.agreement
            if fit.agreement.titles >= LOOKALIKE_LETTERING:  # else its lettering cannot matter
                lettered = _lettered(best.agreement, theirs_in_colour)
            why = _lettering_lookalike(fit.agreement, lettered)
        if why is None:
            if not mine:
                own = None if unexplained is None else unexplained()
                left = 0 if own is None else int((own[1] & (own[0] > UNEXPLAINED)).sum())
                # Too few tiles left unexplained: no look-alike can show it up.
                mine.append(own if left >= UNEXPLAINED_MIN else None)
            if mine[0] is not None:
                in_colour = theirs_in_colour()
                theirs = None if in_colour is None else _unexplained(in_colour)
                why = _colour_lookalike(mine[0], theirs, best.agreement.gain)
        if why is not None:
            return why
    return None


def _grey_lookalike(pair: _Agreement, ref: _Agreement) -> str | None:
    """``_lookalike`` in grey, for one look-alike's agreement ``ref`` with the original. Where
    the reference differs from the original (tile NCC below LOOKALIKE_NCC: its own tiles),
    either the candidate's median agreement drops below its median elsewhere by at least
    LOOKALIKE_DROP of the reference's drop, or the candidate differs almost only there
    (LOOKALIKE_INSIDE, over at least LOOKALIKE_COVER of them)."""
    if pair.ncc is None or pair.judged is None:
        return None
    if ref.ncc is None or ref.judged is None or ref.ncc.shape != pair.ncc.shape:
        return None  # judged on another grid (the untrimmed frames)
    # The reference's own overlay left out too: another copy of the original (its caption,
    # logo or badge in new colours) says nothing of the design.
    judged = pair.judged & ref.judged
    own = judged & (ref.ncc < LOOKALIKE_NCC)
    rest = judged & ~own
    if int(own.sum()) < LOOKALIKE_MIN or int(rest.sum()) < LOOKALIKE_MIN:
        return None
    if ref.gain is not None and _added(ref.gain[own]):
        return None  # another copy, with its own caption there
    theirs = float(np.median(ref.ncc[rest]) - np.median(ref.ncc[own]))
    mine = float(np.median(pair.ncc[rest]) - np.median(pair.ncc[own]))
    if theirs >= LOOKALIKE_MIN_DROP and mine >= LOOKALIKE_DROP * theirs:
        return (
            f"in {int(own.sum())} places it drops {mine / theirs:.2f} as far as that one "
            f"(>= {LOOKALIKE_DROP})"
        )
    differ = judged & (pair.ncc < LOOKALIKE_NCC)
    there = int((differ & own).sum())
    if (
        there >= LOOKALIKE_MIN
        and there >= LOOKALIKE_INSIDE * int(differ.sum())
        and there >= LOOKALIKE_COVER * int(own.sum())
    ):
        return f"it differs in {there} of them and {int(differ.sum()) - there} elsewhere"
    return None


def _same_edit(original: Frame, candidate: Frame, fit: _Fit, reference: Frame, ref: _Fit) -> bool:
    """Whether the candidate (aligned by ``fit``) and the reference (by ``ref``) differ from
    the original alike where ``_grey_lookalike`` saw them drop: in at least LOOKALIKE_MIN
    tiles where both differ from it (tile NCC below LOOKALIKE_NCC), SAME_EDIT of them agree
    with each other (AGREE_NCC, in the original's frame). Two re-uploads edited alike (one
    hue turn and crop, a sticker in one place, one made from the other) share their edit;
    another video of a design differs from the original in its own title, and from a third
    video of the design too."""
    pair, theirs = fit.agreement, ref.agreement
    if fit.matrix is None or ref.matrix is None:
        return False  # the whole frames edge to edge: not in the original's trimmed frame
    if pair.ncc is None or pair.judged is None or theirs.ncc is None or theirs.judged is None:
        return False
    both = pair.judged & theirs.judged & (pair.ncc < LOOKALIKE_NCC) & (theirs.ncc < LOOKALIKE_NCC)
    if int(both.sum()) < LOOKALIKE_MIN:
        return False
    mine, my_mask, my_sigma = _onto(original, candidate, fit)
    other, other_mask, other_sigma = _onto(original, reference, ref)
    alike = _agreement(other, mine, my_mask & other_mask, max(my_sigma, other_sigma))
    if alike.ncc is None or alike.ncc.shape != both.shape:
        return False
    return float((alike.ncc[both] >= AGREE_NCC).mean()) >= SAME_EDIT


def _lettered(theirs: _Agreement, in_colour: Callable[[], _InColour | None]) -> _Agreement:
    """A reference's agreement with the original (``theirs``; ``in_colour``, what makes its
    ``_in_colour``), with its lettering (``_new_lettering``) when the agreement was judged
    without it: ``_agreement`` looks at lettering only for a pair it could still call a
    duplicate, and another video of the design with a longer title is not one (its title's
    conflicts), though it agrees with the original on as many of its tiles as a copy does
    (SHARE_LOOKALIKE) and shows where the design writes its title."""
    if theirs.letters is not None or theirs.share < SHARE_LOOKALIKE:
        return theirs
    pair = in_colour()
    if pair is None:
        return theirs
    where = pair.inside & (pair.weight >= 0.5) & ~pair.overlay
    titles, letters = _new_lettering(pair.labels, pair.m, pair.sigma, pair.grid, where)
    return replace(theirs, letters=letters, titles=titles)


def _lettering_lookalike(pair: _Agreement, ref: _Agreement) -> str | None:
    """``_lookalike`` in lettering (``_new_lettering``'s tiles), for titles too thin and
    faint for the tiles' NCC and for colour maps (a serif over stripes of its own colours,
    italics over dots): the candidate's lettering differs from the original's, side by side in
    at least LOOKALIKE_LETTERING tiles, and LOOKALIKE_INSIDE of the tiles where it differs lie
    where (or next to where) the look-alike's differs too: the design's place for its title.
    Unless the look-alike only adds detail there (``_added``: another copy, captioned), or it
    and the candidate both pasted something flat over the original's detail there (each has a
    tile there with under LOOKALIKE_PASTED of the original's edge energy: two re-uploaders'
    stickers in one corner)."""
    if pair.letters is None or ref.letters is None or pair.letters.shape != ref.letters.shape:
        return None
    mine = int(pair.letters.sum())
    if pair.titles < LOOKALIKE_LETTERING or min(mine, int(ref.letters.sum())) < LOOKALIKE_MIN:
        return None
    around = np.ones((3, 3), np.uint8)
    theirs = cv2.dilate(ref.letters.astype(np.uint8), around) > 0
    there = int((pair.letters & theirs).sum())
    if there < LOOKALIKE_INSIDE * mine:
        return None
    if ref.gain is not None and pair.gain is not None:
        gain = ref.gain[ref.letters]
        if _added(gain):
            return None
        if max(float(gain.min()), float(pair.gain[pair.letters].min())) < LOOKALIKE_PASTED:
            return None
    return (
        f"its lettering differs from the original's in {mine} places, {there} of them where "
        f"that one's does"
    )


def _added(gain: np.ndarray) -> bool:
    """Whether tiles where an image differs from the original (``gain``: its edge energy over
    the original's, per tile) hold something drawn over the original, not something else in
    its place: mostly far more detailed than the original, and nowhere far less."""
    more = int((gain > ADDED_GAIN).sum())
    less = int((gain < 1 / ADDED_GAIN).sum())
    return less == 0 and more >= ADDED_SHARE * gain.size


def _colour_lookalike(
    mine: tuple[np.ndarray, np.ndarray] | None,
    theirs: tuple[np.ndarray, np.ndarray] | None,
    gain: np.ndarray | None,
) -> str | None:
    """``_lookalike`` in colour: ``mine`` and ``theirs`` are ``_unexplained`` of the
    candidate and of a look-alike against the original; ``gain``, the look-alike's
    (``_Agreement.gain``). Where the look-alike leaves the original unexplained (its own
    tiles), the candidate does too in at least UNEXPLAINED_MIN of them and UNEXPLAINED_SHARE."""
    if mine is None or theirs is None or mine[0].shape != theirs[0].shape:
        return None
    judged = mine[1] & theirs[1]
    own = judged & (theirs[0] > UNEXPLAINED)
    there = int((own & (mine[0] > UNEXPLAINED)).sum())
    if there < UNEXPLAINED_MIN or there < UNEXPLAINED_SHARE * int(own.sum()):
        return None
    if gain is not None and gain.shape == own.shape:
        added = gain[own]
        # Another copy, with its own caption there: nowhere far less detailed than the
        # original, and on the whole more (a caption over the picture; another title in
        # place of the original's, or the same design's stones around it, are not).
        if _added(added) or (
            float(added.min()) >= 1 / ADDED_GAIN
            and float(np.exp(np.log(added).mean())) >= ADDED_MEAN
        ):
            return None
    return (
        f"in colour, of the {int(own.sum())} places where it leaves the original unexplained, "
        f"the candidate does too in {there}"
    )
