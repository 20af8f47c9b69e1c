"""The hunt's one decision: is ``candidate`` a re-upload (edited copy) of ``original``?

    from atlas_core.vision import compare
    result = compare(original_jpeg, candidate_jpeg)
    result.duplicate, result.score        # bool, 0..1 (higher = more alike)

How it decides:
1. Both images are decoded, their bars and uniform borders trimmed, and brought to a working
   size in grey (``preprocess``). A featureless image (flat, near-uniform, tiny) has a low
   quality score and is never a duplicate.
2. ORB keypoints are matched (ratio test) against the candidate and its mirror image, and an
   affine transform (a turn of at most 30 degrees, scale, shift, a bounded stretch; no
   reflection) is fitted with RANSAC. That absorbs crops, downscales, borders, small
   rotations, stretching and mirroring.
   A fit that scores near the cut but short of it is refined on the pixels (ECC) and judged
   again: keypoints fit a crop's zoom or a turn only to a few pixels across the frame.
   A fit covering far less of the images than a solid one does (a face against its own
   mirror image, a pattern shifted by its period) is a part matching a part: not judged.
3. The candidate is warped onto the original and the two are compared tile by tile
   (blurred, locally normalised correlation, the best of one-pixel shifts, so colour shifts,
   re-encoding, blur and the residue of a rotation or resampling do not matter; the tile
   sums of all shifts are taken in a few batched resizes). The score is the share of the
   original's textured tiles that agree, less a heavy cost for each *conflict*: a tile where
   both images show detail well above their typical tile (a title, a face) and differ. A
   copy with a logo, caption or emoji keeps most tiles and its overlay mostly covers plain
   background; two videos made from one template (a shared background or stock photo,
   another title) conflict where their titles are, and other crops of one photo or other
   images of one layout disagree almost everywhere.
   Colour tells the two apart where grey detail does not (a title no busier than a busy
   background): a tile of the original mostly in colours rare in what the two images share
   (its title's) that the candidate shows only in shared colours (the background) is the
   original's own content gone, another conflict; a re-uploader's overlay is the reverse.
   So the earlier-published video goes in as the original. Letters are corners: tiles where
   both images are far more cornered than their typical tile, and differ, are two titles.
   Letters are edges too: where each image has strong colour edges with no edge of the
   other's at their orientation nearby, side by side in several tiles, two titles were
   written in one place (thin letters over dots or stripes, which keep the tiles' NCC); for a
   copy in grey or one tint of it, in grey (it keeps only its original's brightness edges).
   Dots and stripes repeat themselves a few pixels on: tiles where the two differ, where
   neither repeats nearby but the original's tiles around them do, are each image's own
   content over the pattern (``_broken_pattern``), conflicts too, unless a colour map of the
   candidate's tile makes the original's (a copy's colour edit); an overlay over the
   pattern leaves the original's tile a piece of it.
   A candidate's tiles in colours the original lacks are its own overlay and cost nothing.
   A copy whose colours all turned by one hue is judged in brightness too, and against the
   original turned by that hue. Where the copy is flat black or white over the original's
   detail, a colour edit clipped it: not judged.
   A copy's colour edit is one map of colour for the whole image: a pair that would be a
   duplicate but that no one colour edit makes of the original (brightness, contrast,
   saturation, a cast, a hue turn, tone curves) is another palette of one layout
   (``_recoloured``).
4. Given look-alikes (``references``: the hunt's other stage-1 neighbours), a pair that would
   be a duplicate is checked against each: where a look-alike differs from the original (its
   own content), a copy agrees about as well as elsewhere; another video of the same design
   drops there as the look-alike does, and is not a duplicate (``_lookalike``). The same in
   colour, for titles grey loses (pale on stripes, teal on a green-grey gradient): where a
   look-alike leaves the original's colours unexplained by any colour map of the tile, a
   copy explains them, another video of the design does not (``_unexplained``). And in
   lettering, for titles too faint for either (a serif over stripes of its own green): where
   the candidate's lettering differs from the original's, a look-alike's differs too, as it
   does in the design's place for its title (``_lettering_lookalike``).
A duplicate needs: enough RANSAC inliers (or, when too few keypoints match, the plain
full-frame alignment), both images mostly covered by the other (the bars trimmed from either
count as covered where the other is flat there: a flat backdrop cut from the original's edge
is kept by its letterboxed copy, whose bars ended the trim), and score >= THRESHOLD.
Unrelated pairs end early: too few ratio-test matches means no RANSAC and no tiles, and the
full-frame fallback runs only when the coarse layouts correlate.

For many comparisons against one image, or against stored ones, prepare each image once:
``Frame.of(jpeg)`` (serialisable with ``to_bytes``/``from_bytes``) and ``compare_frames``.

The package, in the order a decision runs:

    frame.py      Frame: a prepared image, its keypoints, stored with FRAME_VERSION
    align.py      the fits (RANSAC, refined, or edge to edge) and the coverage they need
    tiles.py      the tile-by-tile agreement and its conflicts; hues.py, lettering.py under it
    palette.py    another palette of one layout (no one colour edit makes it)
    colour.py     the pair in colour: what no colour map explains, the original's colours gone
    lookalike.py  another video of the design, shown up by the hunt's other neighbours
    decision.py   compare_frames and compare: the steps in order, and the reason
    tuning.py     every threshold, with the measurement that set it
"""

from atlas_core.vision.compare.decision import (
    Comparison,
    compare,
    compare_frames,
    compare_prepared,
)
from atlas_core.vision.compare.frame import FRAME_VERSION, Frame
from atlas_core.vision.compare.tuning import THRESHOLD

__all__ = [
    "FRAME_VERSION",
    "THRESHOLD",
    "Comparison",
    "Frame",
    "compare",
    "compare_frames",
    "compare_prepared",
]
