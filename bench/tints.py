"""``compare`` on copies filtered to grey or one tint of grey, and on template negatives so
filtered: the colour rules must not take a filter for another title, nor pass another video
because it was filtered.

    python bench/tints.py                 # bench/reupload.py's seed 101 set
    python bench/tints.py --seed 110 --size 0.3 --template-groups 230

Of ``bench/reupload.py``'s set (same ``--size``, ``--seed``, ``--template-groups``): every
re-uploaded original, filtered three ways (grey; the classic sepia matrix, clipped at white;
a navy-to-cream duotone) and saved as JPEG q75, against the original; and every fourth
template negative with its candidate filtered to sepia and to grey. Last line:
``tinted_copies_found=<n>/<m> sepia=<a> duotone=<b> grey=<c> tinted_false_duplicates=<k>/<j>
sepia_negatives=<s> grey_negatives=<g>``.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import Counter

import numpy as np
from PIL import Image
from reupload import build, jpeg

from atlas_core.vision.compare import Frame, compare_frames

SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)


def sepia(img: Image.Image) -> Image.Image:
    out = np.asarray(img).astype(np.float32) @ SEPIA.T
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))


def duotone(img: Image.Image) -> Image.Image:
    grey = np.asarray(img.convert("L")).astype(np.float32)[..., None] / 255
    dark, light = np.array((20, 30, 80), np.float32), np.array((250, 225, 170), np.float32)
    return Image.fromarray((dark + (light - dark) * grey).round().astype(np.uint8))


def grey(img: Image.Image) -> Image.Image:
    return img.convert("L").convert("RGB")


FILTERS = {"sepia": sepia, "duotone": duotone, "grey": grey}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--template-groups", type=int, default=8)
    args = parser.parse_args()
    pairs = build(args.size, args.seed, args.template_groups)
    frames: dict[bytes, Frame] = {}

    def frame(image: bytes) -> Frame:
        if image not in frames:
            frames[image] = Frame.of(image)
        return frames[image]

    def filtered(image: bytes, name: str) -> Frame:
        return Frame.of(jpeg(FILTERS[name](Image.open(io.BytesIO(image)).convert("RGB")), 75))

    found: Counter[str] = Counter()
    originals = list(dict.fromkeys(a for _, label, a, _ in pairs if label))
    for i, original in enumerate(originals, 1):
        for name in FILTERS:
            found[name] += compare_frames(frame(original), filtered(original, name)).duplicate
        if i % 25 == 0:
            print(f"copies: {i}/{len(originals)} originals", file=sys.stderr)
    negatives = [(a, b) for kind, label, a, b in pairs if not label and "_tpl_" in kind][::4]
    false: Counter[str] = Counter()
    for i, (a, b) in enumerate(negatives, 1):
        for name in ("sepia", "grey"):
            false[name] += compare_frames(frame(a), filtered(b, name)).duplicate
        if i % 100 == 0:
            print(f"negatives: {i}/{len(negatives)}", file=sys.stderr)
    print(
        f"tinted_copies_found={sum(found.values())}/{3 * len(originals)} "
        f"sepia={found['sepia']} duotone={found['duotone']} grey={found['grey']} "
        f"tinted_false_duplicates={sum(false.values())}/{2 * len(negatives)} "
        f"sepia_negatives={false['sepia']} grey_negatives={false['grey']}"
    )


if __name__ == "__main__":
    main()
