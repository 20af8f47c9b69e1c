"""Re-decide the pairs a ``bench/reupload.py --record`` run decided, with today's ``compare``.

    python bench/reupload.py --size 0.3 --template-groups 230 --seed 105 --record r105.pkl
    python bench/replay.py r105.pkl r106.pkl          # after changing vision/compare/
    python bench/replay.py --floor 0.3 --show r105.pkl

A change to ``compare`` is judged in minutes instead of a full end-to-end run per seed: the
recorded run's stage 1 (its candidates and look-alikes) is kept, and every decision it made
with a score of at least ``--floor`` (or a duplicate) is made again. Per file: the copies
called duplicates before and after (a copy with its original or with another copy of it),
those with their original (the pairs recall counts; a recording made before
``reupload.SIBLINGS`` cannot tell them apart), the false duplicates before and after (as
``bench/reupload.py`` counts them: ``stock_photo_reuse`` apart), and each pair that changed
(``--show``: ``copy`` with its original, ``copies_of_one_original`` two of its copies).
"Before" is the recording's decision, made by the code of its day: to judge a change, set its
"after" beside the "after" of a replay of the same recording with the code before it (a
recording a few commits old shows changes that are not yours).
An approximation of a new end-to-end run, not a substitute for one: a changed decision can
change which originals the hunt brings in next (``ORIGINALS_AT_MOST``), and a decision
below the floor is not made again. Confirm a change with ``bench/reupload.py``.
The recordings are pickles this bench wrote: load only your own.
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections import Counter

from reupload import COPY, SIBLINGS, STOCK_REUSE, Decision

from atlas_core.vision.compare import Frame, compare_frames


def replay(path: str, floor: float, show: bool) -> tuple[int, ...]:
    """Of one recording, before and after: the copies called duplicates (with their original
    or another copy), those with their original, and the false duplicates."""
    with open(path, "rb") as f:
        recording = pickle.load(f)  # a file bench/reupload.py wrote
    decisions = [Decision(**d) for d in recording["decisions"]]
    frames: dict[bytes, Frame] = {}

    def frame(image: bytes) -> Frame:
        if image not in frames:
            frames[image] = Frame.of(image)
        return frames[image]

    chosen = [d for d in decisions if d.duplicate or d.score >= floor]
    # A recording made before SIBLINGS cannot tell a copy and its original from two copies
    # (its pairs of one original's images are all COPY): it counts none with their original.
    told = any(d.kind == SIBLINGS for d in decisions)
    t0 = time.perf_counter()
    counts: Counter[str] = Counter()
    for d in chosen:
        refs = [frame(r) for r in d.references]
        now = compare_frames(frame(d.original), frame(d.candidate), refs)
        if d.kind != STOCK_REUSE:  # counted apart, as bench/reupload.py does
            side = "copies" if d.kind in (COPY, SIBLINGS) else "false"
            counts[f"{side}_before"] += d.duplicate
            counts[f"{side}_after"] += now.duplicate
        if told and d.kind == COPY:
            counts["originals_before"] += d.duplicate
            counts["originals_after"] += now.duplicate
        if now.duplicate != d.duplicate:
            change = "found" if now.duplicate else "lost"
            counts[f"{d.kind}_{change}"] += 1
            if show:
                print(f"  {change} {d.kind}: score {d.score:.3f} -> {now.score:.3f} ({now.reason})")
    took = time.perf_counter() - t0
    changes = {k: v for k, v in sorted(counts.items()) if k.endswith(("_found", "_lost"))}
    of_original = (
        f" (with their original: {counts['originals_before']} -> {counts['originals_after']})"
        if told
        else " (a recording too old to tell which are with their original)"
    )
    print(
        f"{path}: seed {recording['seed']}, {len(chosen)} of {len(decisions)} decisions "
        f"re-made in {took:.0f}s; copies {counts['copies_before']} -> {counts['copies_after']}"
        f"{of_original}, false duplicates {counts['false_before']} -> "
        f"{counts['false_after']}; changed: {changes or 'none'}"
    )
    return tuple(
        counts[f"{side}_{when}"]
        for side in ("copies", "originals", "false")
        for when in ("before", "after")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("recordings", nargs="+", help="files written by reupload.py --record")
    parser.add_argument(
        "--floor", type=float, default=0.45, help="re-make decisions scoring at least this"
    )
    parser.add_argument("--show", action="store_true", help="print each pair that changed")
    args = parser.parse_args()
    totals = [0] * 6
    for path in args.recordings:
        for i, n in enumerate(replay(path, args.floor, args.show)):
            totals[i] += n
    print(
        f"replay_copies_before={totals[0]} replay_copies_after={totals[1]} "
        f"replay_originals_before={totals[2]} replay_originals_after={totals[3]} "
        f"replay_false_before={totals[4]} replay_false_after={totals[5]}"
    )


if __name__ == "__main__":
    main()
