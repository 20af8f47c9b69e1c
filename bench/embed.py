"""Benchmark: embedding a frame with its mirror row, as the hunt does (``embed_rows``).

    python bench/embed.py [--frames 60]

Simulator cover thumbnails (1280x720 JPEG, drawn before timing). The baseline in the same run
is the path the hunt took before: full-size decoding, then the mirror embedded from the
flipped array (a second pass). Prints wall-clock and CPU milliseconds per frame (CPU time is
what the machine's load does not inflate). Last line: ``embed_ms= embed_cpu_ms=
baseline_ms= speedup=``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from atlas_simulator.thumbnails import video_thumbnail

from atlas_core.pipeline.vectors import embed_rows
from atlas_core.vision.embedder import PerceptualEmbedder
from atlas_core.vision.preprocess import decode, trim_borders


def baseline(embedder: PerceptualEmbedder, image: bytes) -> None:
    rgb = trim_borders(decode(image))
    embedder.embed_rgb(rgb)
    embedder.embed_rgb(np.ascontiguousarray(rgb[:, ::-1]))


def timed(fn: object, images: list[bytes]) -> tuple[float, float]:
    wall, cpu = [], []
    for image in images:
        w, c = time.perf_counter(), time.process_time()
        fn(image)  # type: ignore[operator]
        wall.append(1000 * (time.perf_counter() - w))
        cpu.append(1000 * (time.process_time() - c))
    return float(np.median(wall)), float(np.median(cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    embedder = PerceptualEmbedder()
    images = [video_thumbnail(f"v{i:010d}", "maxresdefault", seed=3) for i in range(args.frames)]
    embed_rows(embedder, "warm", [(0, images[0])])
    base, base_cpu = timed(lambda im: baseline(embedder, im), images)
    ms, cpu = timed(lambda im: embed_rows(embedder, "v", [(0, im)]), images)
    print(f"baseline (full decode, two passes): {base:.2f} ms wall, {base_cpu:.2f} ms CPU")
    print(f"embed_rows (reduced decode, one pass): {ms:.2f} ms wall, {cpu:.2f} ms CPU")
    print(
        f"embed_ms={ms:.2f} embed_cpu_ms={cpu:.2f} baseline_ms={base:.2f} speedup={base / ms:.1f}"
    )


if __name__ == "__main__":
    main()
