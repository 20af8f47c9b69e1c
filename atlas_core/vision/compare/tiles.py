"""Tile by tile: how far the candidate, aligned onto the original, agrees with it
(``_tiles_agreement`` -> ``_Agreement``): the share of textured tiles that agree, less the
conflicts (detail, the original's own colours, corners, lettering) that mark another title.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from atlas_core.vision.compare.hues import _common_turn, _hue_turn
from atlas_core.vision.compare.lettering import _new_lettering
from atlas_core.vision.compare.tuning import (
    ABSENT,
    AGREE_NCC,
    CLIP_LEVEL,
    CLIP_MAX,
    COLOURED_MIN,
    COLOURED_NCC,
    COMMON_TILE,
    CONFLICT_DETAIL,
    CONFLICT_WEIGHT,
    CORNER_DETAIL,
    CORNER_MIN,
    CRUSHED_LEVEL,
    FLAT_STD,
    LETTERED_SCORE,
    LOCAL_ABSENT,
    NEW_LETTERING_MIN,
    OVERLAY_MAX,
    PATTERN_AROUND,
    PATTERN_CONTRAST,
    PATTERN_DROP,
    PATTERN_MIN,
    PATTERN_NCC,
    PATTERN_NEAR,
    PATTERN_NOVEL,
    PATTERN_OWN,
    PATTERN_REACH,
    PATTERN_SHARE,
    PATTERN_SPREAD,
    RARE,
    RARE_TILE,
    SHIFTS,
    THRESHOLD,
    TILE_PX,
)
from atlas_core.vision.preprocess import COLOUR_LEVELS

# A hue-turned candidate's other views (``_tiles_agreement``): the original's and the aligned
# candidate's brightness (of the original's ``_half`` size), and the original's RGB (uint8, at
# the working size: brought to that size only on the rare pair that comes to need it).
Brights = tuple[np.ndarray, np.ndarray, np.ndarray]


def _tile_means(planes: list[np.ndarray], grid: tuple[int, int]) -> np.ndarray:
    """Means over the tiles of a grid of three planes at once: (rows, cols, 3)."""
    # Plane by plane: interleaving them first costs more than the means.
    means = [cv2.resize(p, grid, interpolation=cv2.INTER_AREA) for p in planes]
    return np.stack(means, axis=-1)


@dataclass(frozen=True)
class _Agreement:
    share: float  # share of textured tiles that agree
    conflicts: int  # tiles where both images are detailed (a title, a face), and differ
    textured: int  # the original's textured tiles in the covered area
    coloured: int = 0  # of the conflicts: the original's rare colours gone (``_rarity``)
    lettered: int = 0  # tiles of two titles: both far more cornered than their typical tile
    # Per tile of the original's grid: the best NCC, and the tiles judged (the original's
    # textured tiles well inside the covered area, the candidate's own overlay left out).
    ncc: np.ndarray | None = field(default=None, repr=False, compare=False)
    judged: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Per tile: how many times the candidate's edge energy is the original's (``_added``).
    gain: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Where the two images' lettering differs side by side, per tile (``_new_lettering``'s
    # tiles, when it was looked at), and the fewer of the two images' such tiles.
    letters: np.ndarray | None = field(default=None, repr=False, compare=False)
    titles: int = 0
    # The tiles counted as conflicts where the original breaks a pattern (``_broken_pattern``).
    pattern: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def score(self) -> float:
        score = max(0.0, self.share - CONFLICT_WEIGHT * self.conflicts / max(1, self.textured))
        # Two titles are two videos, however much of the design they share.
        return min(score, LETTERED_SCORE) if self.lettered else score


def _tiles_agreement(
    a: np.ndarray,
    b: np.ndarray,
    mask: np.ndarray,
    sigma: float,
    colours: tuple[np.ndarray, np.ndarray] | None = None,
    brights: Brights | None = None,
) -> _Agreement:
    """How the original ``a`` and the aligned candidate ``b`` (``_half``-sized) agree in the
    covered ``mask``, tile by tile (``_agreement``). A candidate whose colours are the
    original's turned by one hue (``_common_turn``) is judged two more ways, where grey can
    lose a pattern of two colours that were close in it (and the turn make them far): in
    brightness (``brights``: the largest of R, G, B, which a hue turn keeps), and, short of the
    cut in that too, against the original turned by the same hue, in grey (from the
    original's RGB, ``brights``' third)."""
    grey = _agreement(a, b, mask, sigma, colours)
    if brights is None or colours is None or grey.score >= THRESHOLD:
        return grey
    turn = _common_turn(colours, mask)
    if turn is None:
        return grey
    bright = _agreement(brights[0], brights[1], mask, sigma, colours)
    best = bright if bright.score > grey.score else grey
    if best.score >= THRESHOLD:
        return best
    size = (a.shape[1], a.shape[0])
    original = cv2.resize(brights[2], size, interpolation=cv2.INTER_AREA).astype(np.float32)
    rgb = np.clip(_hue_turn(original, turn), 0.0, 255.0)
    turned = cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_RGB2GRAY)
    hued = _agreement(turned, b, mask, sigma, colours)
    return hued if hued.score > best.score else best


def _weights(mask: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The pixels judged (float32 weights) and the tiles (of TILE_PX) well inside what the
    candidate covers, from its warped ``mask`` and the blur ``sigma``."""
    # Keep clear of the candidate's edges: blur smears what lies beyond them (fill left by a
    # rotation, bars, borders) into the picture.
    margin = int(np.ceil(2 * sigma)) + 1
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    covered = cv2.erode(mask, kernel).astype(np.float32)
    # ...and of the original's own edges: a copy's added border, a turn's fill or a letterbox
    # meets its picture there, and a pixel of misalignment shows it in the outermost lines
    # (the simulator's bordered, turned re-uploads: 63 -> 71 of 80 found; bench/reupload.py
    # tuning seeds 4/5, compare recall 0.983/0.957 -> 0.989/0.968, no more false duplicates).
    m = np.array(covered, copy=True)
    m[:margin], m[-margin:], m[:, :margin], m[:, -margin:] = 0, 0, 0, 0
    # Away from the edges of what the candidate covers: there a turned copy shows its fill
    # (the corners a rotation leaves), and a crop cuts what lies at them (a frame line).
    h, w = mask.shape
    edge = TILE_PX // 2
    inner = cv2.erode(covered, np.ones((2 * edge + 1, 2 * edge + 1), np.uint8))
    inside = cv2.resize(inner, (w // TILE_PX, h // TILE_PX), interpolation=cv2.INTER_AREA)
    return m, inside >= 0.999


def _agreement(
    a: np.ndarray,
    b: np.ndarray,
    mask: np.ndarray,
    sigma: float,
    colours: tuple[np.ndarray, np.ndarray] | None = None,
) -> _Agreement:
    """Tile by tile: locally normalised correlation, the best of one-pixel shifts, so colour
    shifts, re-encoding, blur and small misalignments do not matter; then the conflicts."""
    a = cv2.GaussianBlur(a.astype(np.float32), (0, 0), sigma)
    b = cv2.GaussianBlur(b.astype(np.float32), (0, 0), sigma)
    m, inside = _weights(mask, sigma)
    h, w = a.shape
    grid = (w // TILE_PX, h // TILE_PX)
    padded = cv2.copyMakeBorder(b, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
    am = a * m
    own = _tile_means([m, am, am * a], grid)
    shifted = []
    offsets = (0, 1, 2) if SHIFTS else (1,)
    for dy in offsets:
        for dx in offsets:
            bs = padded[dy : dy + h, dx : dx + w]
            bm = bs * m
            shifted.append(_tile_means([bm, bm * bs, am * bs], grid))
    means = np.stack(shifted)  # (shift, rows, cols, 3)
    n = own[..., 0]
    valid = n >= 0.5
    k = np.maximum(n, 1e-6)
    ma = own[..., 1] / k
    va = np.maximum(own[..., 2] / k - ma * ma, 0.0)
    mb = means[..., 0] / k
    vb = np.maximum(means[..., 1] / k - mb * mb, 0.0)
    ncc = ((means[..., 2] / k - ma * mb) / np.sqrt((va + 4.0) * (vb + 4.0))).max(axis=0)
    agree = ncc >= AGREE_NCC
    ta = valid & (np.sqrt(va) >= FLAT_STD)
    tb = valid & (np.sqrt(vb[len(vb) // 2]) >= FLAT_STD)  # the unshifted candidate
    if CLIP_LEVEL > 0:
        # Where the candidate is flat at black or white and the original has detail, a colour
        # edit crushed the shadows or blew the highlights: what was there cannot be told, so
        # the tile is not judged (unless such tiles are over CLIP_MAX of the textured ones).
        # So too a tile of the original all in its shadows or all in its highlights (its mean
        # two deviations from black or white within CRUSHED_LEVEL) shown flat at whatever level
        # a later step of the edit (an offset) left them. A title has its strokes' contrast.
        level = mb[len(mb) // 2]
        extreme = (level <= CLIP_LEVEL) | (level >= 255 - CLIP_LEVEL)
        spread = 2.0 * np.sqrt(va)
        extreme |= (ma + spread <= CRUSHED_LEVEL) | (ma - spread >= 255 - CRUSHED_LEVEL)
        clipped = ta & ~tb & extreme
        if 0 < int(clipped.sum()) <= CLIP_MAX * int(ta.sum()):
            ta = ta & ~clipped
    share = float(agree[ta].mean()) if ta.any() else 0.0
    # A conflict: both images are detailed here beyond their typical tile (a title, a face),
    # and differ. An overlay a re-uploader adds mostly lies over background or is small; two
    # videos of one template differ where each has its own title.
    ga = cv2.magnitude(cv2.Sobel(a, cv2.CV_32F, 1, 0), cv2.Sobel(a, cv2.CV_32F, 0, 1))
    gb = cv2.magnitude(cv2.Sobel(b, cv2.CV_32F, 1, 0), cv2.Sobel(b, cv2.CV_32F, 0, 1))
    energy = _tile_means([ga * m, gb * m, m], grid)
    ea, eb = energy[..., 0] / k, energy[..., 1] / k
    typical_a = float(np.median(ea[ta])) if ta.any() else 0.0
    typical_b = float(np.median(eb[tb])) if tb.any() else 0.0
    detailed = (ea > CONFLICT_DETAIL * typical_a) & (eb > CONFLICT_DETAIL * typical_b)
    conflict = ~agree & ta & tb & detailed & inside
    differ = ~agree & inside & (ta | tb)
    coloured = lettered = 0
    # Looked at only where they can change the decision (they only lower the score).
    overlay = np.zeros_like(differ)
    if colours is not None and share >= THRESHOLD and differ.any():
        # A re-uploader's caption, logo or emoji is drawn in colours the original does not
        # have (over its title too); another video of one template writes in the template's
        # own colours. Such tiles of the candidate cost nothing.
        rare = _near(colours[0], m) < ABSENT
        absent = _tile_share(colours[1], m, rare, grid) / k
        overlay = absent >= RARE_TILE
        if overlay.any():
            overlay &= ~_theirs_here(colours, m, rare, overlay)
        # ...in one place: a candidate in new colours all over is recoloured (another
        # palette of a template, a hue turn), which says nothing of any one tile.
        if overlay.sum() > OVERLAY_MAX * max(1, int((inside & valid).sum())):
            overlay = np.zeros_like(differ)
        conflict &= ~overlay
    conflicts = int(conflict.sum())
    base = _Agreement(share, conflicts, int(ta.sum()))
    if base.score >= THRESHOLD:
        ca, cb = _corners(a, m, grid, k, ta), _corners(b, m, grid, k, tb)
        cornered = differ & ~overlay & (ca > CORNER_DETAIL) & (cb > CORNER_DETAIL)
        if int(cornered.sum()) >= CORNER_MIN:
            lettered = int(cornered.sum())
            conflicts = int((conflict & ~cornered).sum()) + lettered
            differ &= ~cornered
            conflict |= cornered
        base = _Agreement(share, conflicts, int(ta.sum()), 0, lettered)
    differ &= ~conflict
    if colours is not None and base.score >= THRESHOLD:
        # The original's own colours gone: a tile of the original that is mostly colours rare
        # in what both images share (a title's, an emblem's) differs from the candidate, which
        # shows only shared colours there (its background: another video of the template,
        # its title elsewhere). A re-uploader's overlay is the other way round: rare colours
        # of the candidate's over the original's shared ones.
        shared = agree & valid
        ra = _rarity(colours[0], m, shared, grid) / k
        rb = _rarity(colours[1], m, shared, grid) / k
        faint = agree & (ncc < COLOURED_NCC) & inside & (ta | tb) & ~overlay
        gone = (differ | faint) & (ra >= RARE_TILE) & (rb < COMMON_TILE)
        coloured = int(gone.sum())
        if coloured >= COLOURED_MIN:
            conflict |= gone
        else:
            coloured = 0
    judged = ta & inside & ~overlay
    textured = int(ta.sum())
    letters, titles = None, 0
    if colours is not None and NEW_LETTERING_MIN > 0:
        if _Agreement(share, conflicts + coloured, textured, coloured, lettered).score >= THRESHOLD:
            titles, letters = _new_lettering(colours, m, sigma, grid, inside & valid & ~overlay)
            if titles >= NEW_LETTERING_MIN:
                lettered = max(lettered, titles)
                conflicts += titles
    pattern = None
    if PATTERN_NCC > 0 and _Agreement(share, conflicts + coloured, textured).score >= THRESHOLD:
        # Last, over a busy pattern: a title there is no more detailed, cornered or edged than
        # the pattern around it, and another keeps much of each tile's NCC in what it leaves of
        # the pattern. Where the original breaks the pattern and the candidate agrees less
        # there than around it (``_broken_pattern``), the tile is a conflict too.
        broken = (~agree | (ncc < 1.0 - PATTERN_DROP)) & ta & tb & inside & ~conflict & ~overlay
        if broken.any():
            found = _broken_pattern(a, b, broken, agree & ta & inside, ncc)
            if _pattern_counts(int(found.sum()), conflicts + coloured):
                pattern = found
                conflicts += int(found.sum())
    gain = (eb + 1.0) / (ea + 1.0)
    return _Agreement(
        share,
        conflicts + coloured,
        textured,
        coloured,
        lettered,
        ncc,
        judged,
        gain,
        letters,
        titles,
        pattern,
    )


def _pattern_counts(broken: int, others: int) -> bool:
    """Whether ``broken`` tiles of a broken pattern are conflicts, beside the pair's
    ``others``: PATTERN_OWN of them, PATTERN_MIN with the others."""
    return broken >= PATTERN_OWN and broken + others >= PATTERN_MIN


def _broken_pattern(
    a: np.ndarray, b: np.ndarray, tiles: np.ndarray, background: np.ndarray, ncc: np.ndarray
) -> np.ndarray:
    """Of ``tiles`` (where the blurred original ``a`` and aligned candidate ``b`` differ, or
    agree faintly): those where the original breaks a pattern. The original's
    ``background`` tiles around the tile (two tiles either way) hold a pattern
    (``_repeats``: dots or stripes, not one edge nor a smooth gradient; at least
    PATTERN_AROUND of them and PATTERN_SHARE, as a title's own rows hold its strokes), the
    tile's ``ncc`` is PATTERN_DROP under theirs (their median: a blurred or re-encoded copy
    agrees less everywhere alike), and the original's tile repeats nowhere nearby (its best
    ``_shift_match`` under PATTERN_NOVEL): its own content (a title) over a dotted or striped
    design, which the candidate shows otherwise: its own content (repeating nowhere nearby
    either) or the bare pattern (``_repeats``). A re-uploader's overlay over the pattern
    leaves the original's tile a piece of the pattern; a copy's title agrees there as well as
    the pattern around it does; a frame's edge, the same in both, repeats along itself."""
    out = np.zeros_like(tiles)
    seen: dict[tuple[int, int], np.ndarray] = {}  # the original's tiles' shift matches

    def matched(tile: tuple[int, int]) -> np.ndarray:
        if tile not in seen:
            seen[tile] = _shift_match(a, *tile)
        return seen[tile]

    for r, c in np.argwhere(tiles):
        r0, c0 = max(0, r - 2), max(0, c - 2)
        near = [
            (int(y) + r0, int(x) + c0) for y, x in np.argwhere(background[r0 : r + 3, c0 : c + 3])
        ]
        # The cheap tests first: the drop under the best tile around (no median of some of
        # them is higher), the original's tile.
        if len(near) < PATTERN_AROUND or ncc[r, c] >= max(ncc[t] for t in near) - PATTERN_DROP:
            continue
        if np.nanmax(matched((int(r), int(c)))) >= PATTERN_NOVEL:
            continue
        repeating = [t for t in near if _repeats(matched(t))]
        if len(repeating) < PATTERN_AROUND or len(repeating) < PATTERN_SHARE * len(near):
            continue
        if ncc[r, c] >= float(np.median([ncc[t] for t in repeating])) - PATTERN_DROP:
            continue
        theirs = _shift_match(b, r, c)
        out[r, c] = np.nanmax(theirs) < PATTERN_NOVEL or _repeats(theirs)
    return out


def _shift_match(img: np.ndarray, r: int, c: int) -> np.ndarray:
    """The normalised correlation of tile (``r``, ``c``) of ``img`` with the image shifted by
    up to PATTERN_REACH pixels each way (centred on no shift), shifts of under PATTERN_NEAR
    on both axes (the tile itself) NaN."""
    t, reach, near = TILE_PX, PATTERN_REACH, PATTERN_NEAR
    padded = cv2.copyMakeBorder(
        img[max(0, r * t - reach) : r * t + t + reach, max(0, c * t - reach) : c * t + t + reach],
        max(0, reach - r * t),
        max(0, r * t + t + reach - img.shape[0]),
        max(0, reach - c * t),
        max(0, c * t + t + reach - img.shape[1]),
        cv2.BORDER_REFLECT,
    )
    tile = padded[reach : reach + t, reach : reach + t]
    match: np.ndarray = cv2.matchTemplate(padded, tile, cv2.TM_CCOEFF_NORMED)
    match[reach - near + 1 : reach + near, reach - near + 1 : reach + near] = np.nan
    return match


def _repeats(match: np.ndarray) -> bool:
    """Whether a tile's ``_shift_match`` shows a pattern: shifts that repeat it (to
    PATTERN_NCC) spread off any one line through no shift by PATTERN_SPREAD pixels (dots
    repeat every way; stripes along themselves and across, a period on; one edge or line only
    along itself), and one shift turns it (PATTERN_CONTRAST: not a smooth gradient)."""
    if float(np.nanmin(match)) > PATTERN_CONTRAST:
        return False
    ys, xs = np.nonzero(match >= PATTERN_NCC)
    if len(ys) < 2:
        return False
    reach = match.shape[0] // 2
    shifts = np.stack([xs - reach, ys - reach]).astype(np.float64)
    spread = np.linalg.eigvalsh(shifts @ shifts.T / len(ys))[0]
    return bool(np.sqrt(max(spread, 0.0)) >= PATTERN_SPREAD)


def _theirs_here(
    colours: tuple[np.ndarray, np.ndarray],
    m: np.ndarray,
    rare: np.ndarray,
    tiles: np.ndarray,
) -> np.ndarray:
    """Of ``tiles`` (the candidate's, RARE_TILE of them in colours ``rare`` in the original):
    those left under RARE_TILE once the colours the original shows around the tile
    (LOCAL_ABSENT) are taken as its own: the original's title there, not an overlay."""
    out = np.zeros_like(tiles)
    t = TILE_PX
    original, candidate = colours
    for r, c in np.argwhere(tiles):
        around = (slice(max(0, (r - 1) * t), (r + 2) * t), slice(max(0, (c - 1) * t), (c + 2) * t))
        new = rare & (_near(original[around], m[around]) < LOCAL_ABSENT)
        tile = (slice(r * t, (r + 1) * t), slice(c * t, (c + 1) * t))
        weight = m[tile]
        share = float((new[candidate[tile]] * weight).sum()) / max(float(weight.sum()), 1e-6)
        out[r, c] = share < RARE_TILE
    return out


def _corners(
    img: np.ndarray, m: np.ndarray, grid: tuple[int, int], k: np.ndarray, textured: np.ndarray
) -> np.ndarray:
    """Per tile: the mean corner strength (the structure tensor's smaller eigenvalue) in
    the covered area ``m``, in units of the image's typical ``textured`` tile."""
    strength = cv2.cornerMinEigenVal(img, 3)
    tiles: np.ndarray = cv2.resize(strength * m, grid, interpolation=cv2.INTER_AREA) / k
    typical = float(np.median(tiles[textured])) if textured.any() else 0.0
    out: np.ndarray = tiles / max(typical, 1e-6)
    return out


def _rarity(
    labels: np.ndarray,
    m: np.ndarray,
    shared: np.ndarray,
    grid: tuple[int, int],
) -> np.ndarray:
    """Per tile: the mean weight ``m`` of its pixels whose colour is rare in the tiles
    ``shared`` (both images agree there): a title's colour, not its background's."""
    t = TILE_PX
    tiles = np.kron(shared, np.ones((t, t))).astype(np.float32)
    h, w = labels.shape
    in_shared = cv2.copyMakeBorder(
        tiles, 0, h - tiles.shape[0], 0, w - tiles.shape[1], cv2.BORDER_CONSTANT, value=0
    )
    return _tile_share(labels, m, _near(labels, in_shared * m) < RARE, grid)


def _near(labels: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Each colour's share of the ``weight``-ed pixels, a colour next to a common one counted
    as common too (JPEG, blur, antialiasing): (COLOUR_LEVELS**3,)."""
    n = COLOUR_LEVELS
    counts = np.bincount(labels.ravel(), weights=weight.ravel(), minlength=n**3)[: n**3]
    hist = counts.reshape(n, n, n) / max(1.0, float(weight.sum()))
    # The largest share within one level on every channel: a 3x3x3 maximum, one axis at a time.
    p = np.pad(hist, 1)
    p = np.maximum(np.maximum(p[:-2], p[1:-1]), p[2:])
    p = np.maximum(np.maximum(p[:, :-2], p[:, 1:-1]), p[:, 2:])
    p = np.maximum(np.maximum(p[:, :, :-2], p[:, :, 1:-1]), p[:, :, 2:])
    out: np.ndarray = p.ravel()
    return out


def _tile_share(
    labels: np.ndarray, m: np.ndarray, chosen: np.ndarray, grid: tuple[int, int]
) -> np.ndarray:
    """Per tile: the summed weight ``m`` of its pixels whose colour is ``chosen`` (a boolean
    per colour label), as ``cv2.resize`` sums a grid (divide by the tile's weight)."""
    picked = np.take(chosen, labels).astype(np.float32) * m
    out: np.ndarray = cv2.resize(picked, grid, interpolation=cv2.INTER_AREA)
    return out
