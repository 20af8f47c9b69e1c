"""Colour labels as hues: the tables behind a hue-turned copy (``_common_turn``,
``_hue_turns``, ``_hue_turn``) and the label colours the lettering's colour edges are measured in.
"""

from __future__ import annotations

import cv2
import numpy as np

from atlas_core.vision.compare.tuning import (
    GONE_CHROMA,
    HUE_MIN_TURN,
    HUE_SPREAD,
    HUE_STEP,
    HUE_TURNED,
    TINT_BLUR,
    TINT_LEVELS,
)
from atlas_core.vision.preprocess import COLOUR_LEVELS


def _common_turn(colours: tuple[np.ndarray, np.ndarray], mask: np.ndarray) -> float | None:
    """The one hue turn (degrees) that makes the candidate's colours of the original's, if
    there is one: the median of the turns of the original's hues (15-degree bins with enough
    coloured pixels), when at least HUE_MIN_TURN from none and HUE_TURNED of the hues turned
    within HUE_SPREAD of it; else None. Found for a hue-turned copy; not for another palette
    of a template, each colour replaced by its own."""
    every = _hue_turns(colours, mask)
    if every is None or every.size < 3:
        return None
    common = float(np.median(every))
    if abs(common) < HUE_MIN_TURN:
        return None
    if float(np.mean(np.abs(every - common) <= HUE_SPREAD)) < HUE_TURNED:
        return None
    return common


def _hue_turn(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """float32 RGB (0..255) with every hue turned by ``degrees`` (HSV), as a hue edit does."""
    hsv = cv2.cvtColor(rgb / 255.0, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0] + degrees) % 360.0
    out: np.ndarray = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0
    return out


def _hue_turns(colours: tuple[np.ndarray, np.ndarray], mask: np.ndarray) -> np.ndarray | None:
    """Per hue of the original (15-degree bins with enough coloured pixels in ``mask``): the
    median turn of its pixels' hue in the candidate, degrees (-180..180); None with too few
    coloured pixels. Medians, not the most common 15-degree step: a colour's hue is known to a
    few degrees (``COLOUR_LEVELS``), and a 37-degree turn fell half in one step, half in the
    next."""
    labels = mask > 0
    codes = _TURNS[colours[0][labels], colours[1][labels]]
    hist = np.bincount(codes, minlength=_NOT_VIVID + 1)
    if int(codes.size - hist[_NOT_VIVID]) < 100:
        return None
    hist = hist[:_NOT_VIVID].reshape(24, -1)
    counts = hist.sum(axis=1)
    enough = counts >= 30
    if not enough.any():
        return None
    cumulative = np.cumsum(hist[enough], axis=1)
    middle = np.argmax(cumulative >= (counts[enough, None] + 1) / 2, axis=1)
    out: np.ndarray = (middle + 0.5) * HUE_STEP - 180.0
    return out


def _label_rgb() -> np.ndarray:
    """Each colour label's bin centre as float RGB: (COLOUR_LEVELS**3, 3)."""
    n = COLOUR_LEVELS
    centre = ((np.arange(n) * 256 + 128) // n).astype(np.float32)
    r, g, b = np.meshgrid(centre, centre, centre, indexing="ij")
    return np.stack([r, g, b], axis=-1).reshape(-1, 3)


_LABEL_RGB = _label_rgb()


def _label_hues() -> tuple[np.ndarray, np.ndarray]:
    """Hue (degrees) and chroma (max - min) of each colour label's bin centre."""
    rgb = _LABEL_RGB.astype(np.uint8).reshape(-1, 1, 3)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3).astype(np.float32)
    flat = rgb.reshape(-1, 3).astype(np.int16)
    return hsv[:, 0] * 360.0 / 256.0, (flat.max(axis=1) - flat.min(axis=1)).astype(np.float32)


_HUES = _label_hues()


def _turn_codes() -> np.ndarray:
    """For each pair of colour labels (original's, candidate's): the original's 15-degree hue
    bin and the turn to the candidate's hue in HUE_STEP steps, as one histogram index
    (``bin * steps + step``); ``_NOT_VIVID`` where either colour is too grey to have a hue
    (chroma below 64). One lookup per pixel instead of a pass per quantity."""
    hue, chroma = _HUES
    steps = int(360 / HUE_STEP)
    ha, hb = hue[:, None], hue[None, :]
    turn = ((hb - ha + 180.0) % 360.0 / HUE_STEP).astype(np.int64)
    codes = (ha // 15).astype(np.int64) * steps + np.minimum(turn, steps - 1)
    vivid = (chroma[:, None] >= 64) & (chroma[None, :] >= 64)
    out: np.ndarray = np.where(vivid, codes, _NOT_VIVID).astype(np.int32)
    return out


_NOT_VIVID = 24 * int(360 / HUE_STEP)  # past the last histogram bin


_TURNS = _turn_codes()


def _greyed(original: np.ndarray, candidate: np.ndarray, m: np.ndarray) -> bool:
    """Whether ``candidate`` (RGB, aligned onto ``original``) kept less than GONE_CHROMA of the
    original's colourfulness over the weights ``m``, each taken as the colour its brightness
    does not tell (``_untold_chroma``): a copy in grey, or near it, or in one tint of grey (a
    sepia or duotone filter), whose title is only its brightness."""
    return _untold_chroma(candidate, m) < GONE_CHROMA * _untold_chroma(original, m)


def _untold_chroma(rgb: np.ndarray, m: np.ndarray) -> float:
    """The colourfulness (max(R, G, B) - min(R, G, B), summed over the weights ``m``) of what
    is left of ``rgb`` once each pixel's colour is taken as the mean colour of its brightness
    (the mean of R, G, B, in TINT_LEVELS steps): 0 for grey and for any one tint of it.
    Judged blurred by TINT_BLUR (a JPEG's chroma is coarser than its brightness), at a
    quarter of the size (the blur leaves nothing finer)."""
    h, w = m.shape
    size = (max(1, w // 4), max(1, h // 4))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    pixels = cv2.GaussianBlur(small, (0, 0), TINT_BLUR / 4).reshape(-1, 3)
    weights = cv2.resize(m, size, interpolation=cv2.INTER_AREA).ravel().astype(np.float64)
    level = np.minimum((pixels.mean(axis=1) * (TINT_LEVELS / 256)).astype(np.intp), TINT_LEVELS - 1)
    total = np.maximum(np.bincount(level, weights, TINT_LEVELS), 1e-9)
    tint = np.stack([np.bincount(level, weights * pixels[:, k], TINT_LEVELS) for k in range(3)], 1)
    left = pixels - (tint / total[:, None])[level]
    return float((weights * (left.max(axis=1) - left.min(axis=1))).sum())
