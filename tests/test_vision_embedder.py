"""Stage-1 embedders: the default perceptual one and a learned ONNX model (built here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from vision_images import jpeg, letterbox, scene

from atlas_core.config import load_settings
from atlas_core.factories import build_embedder
from atlas_core.pipeline.vectors import embed_rows
from atlas_core.store.vectors import is_query_row, is_stored_row
from atlas_core.vision.embedder import (
    GREY_OFFSET,
    MIRROR_OFFSET,
    QUERY_ONLY_OFFSET,
    SHIFT_OFFSETS,
    ZOOM_OFFSET,
    PerceptualEmbedder,
    frame_rows,
    trim_bars,
)
from atlas_core.vision.onnx_embedder import OnnxEmbedder


def tiny_model(path: Path, outputs: int = 512, side: int = 32) -> Path:
    """A 'model' that flattens a (1, 3, side, side) image and projects it to ``outputs``."""
    weights = np.random.default_rng(0).normal(size=(3 * side * side, outputs)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["image"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "w"], ["embedding"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, outputs])],
        initializer=[numpy_helper.from_array(weights, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_onnx_embedder_gives_unit_vectors_robust_to_letterbox(tmp_path: Path) -> None:
    embedder = OnnxEmbedder(tiny_model(tmp_path / "tiny.onnx"))
    assert embedder.size == 32 and embedder.name.startswith("onnx-tiny-")
    original = scene(1)
    vec = embedder.embed(jpeg(original))
    assert vec.shape == (512,) and vec.dtype == np.float32
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5
    boxed = embedder.embed(jpeg(letterbox(original)))
    other = embedder.embed(jpeg(scene(2)))
    assert cos(vec, boxed) > 0.95 > cos(vec, other)


def test_onnx_embedder_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a file"):
        OnnxEmbedder(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a loadable ONNX model"):
        OnnxEmbedder(tmp_path / "junk.onnx")
    wrong = OnnxEmbedder(tiny_model(tmp_path / "wide.onnx", outputs=100))
    with pytest.raises(ValueError, match="returned 100 values; expected 512"):
        wrong.embed(jpeg(scene(1)))


def test_settings_choose_the_embedder(tmp_path: Path) -> None:
    assert isinstance(build_embedder(load_settings(_env_file=None)), PerceptualEmbedder)
    path = tiny_model(tmp_path / "m.onnx")
    settings = load_settings(_env_file=None, VISION_MODEL_PATH=str(path))
    assert isinstance(build_embedder(settings), OnnxEmbedder)
    other = tiny_model(tmp_path / "m2.onnx", side=16)
    assert OnnxEmbedder(other).name != OnnxEmbedder(path).name  # version = weights hash


def test_perceptual_embedder_trims_bars_and_mirror_rows_match_mirrored_copies() -> None:
    embedder = PerceptualEmbedder()
    original = scene(3)
    vec = embedder.embed(jpeg(original))
    assert cos(vec, embedder.embed(jpeg(letterbox(original)))) > 0.95
    flipped = embedder.embed(jpeg(original.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    rows = embed_rows(embedder, "v", [(0, jpeg(original))])
    stored = [0, MIRROR_OFFSET, ZOOM_OFFSET, ZOOM_OFFSET + MIRROR_OFFSET, GREY_OFFSET]
    assert [r[1] for r in rows] == stored + list(SHIFT_OFFSETS)  # a scene in colour
    assert cos(rows[0][2], vec) > 0.999
    assert cos(rows[1][2], flipped) > 0.98  # the mirror row: the decoded array flipped
    assert cos(vec, flipped) < 0.9


def test_mirror_row_from_the_flipped_array_and_copies_stay_near() -> None:
    embedder = PerceptualEmbedder()
    original = scene(4)
    rgb = np.asarray(original)
    flipped = embedder.embed_rgb(np.ascontiguousarray(rgb[:, ::-1]))
    assert cos(flipped, embed_rows(embedder, "v", [(0, jpeg(original))])[1][2]) > 0.99
    vec = embedder.embed(jpeg(original))
    stored = [v for _, v in frame_rows(embedder, np.asarray(original))]

    def nearest(edited: Image.Image) -> float:  # the copy's query row against every row
        copy = embedder.embed(jpeg(edited, 50))
        return max(cos(copy, row) for row in stored)

    w, h = original.size
    centred = original.crop((int(0.05 * w), int(0.05 * h), int(0.95 * w), int(0.95 * h)))
    rotated = original.rotate(5, resample=Image.Resampling.BILINEAR)
    others = max(cos(vec, embedder.embed(jpeg(scene(s)))) for s in range(5, 12))
    for edited in (centred, rotated, letterbox(original)):
        assert nearest(edited) > 0.9 > 0.5 > others
    # A crop from two sides only shifts the picture: further, still far nearer than others.
    one_sided = original.crop((int(0.1 * w), int(0.05 * h), w, h))
    assert nearest(one_sided) > 0.5 > others


def test_a_copy_cropped_unevenly_is_found_by_a_shifted_window() -> None:
    """A crop taken more from one side moves the picture's centre: the copy's own rows drift
    from the original's, one of its shifted windows (queried, never stored) does not."""
    embedder = PerceptualEmbedder()
    others = [embedder.embed(jpeg(scene(s))) for s in range(20, 26)]
    for s in range(3, 9):
        original = scene(s)
        w, h = original.size
        rows = embed_rows(embedder, "o", [(0, jpeg(original))])
        stored = [v for _, f, v, _ in rows if is_stored_row(f)]
        assert len(stored) == 5  # the frame, its mirror, its zoomed centre, its mirror, grey
        for box in ((int(0.12 * w), int(0.1 * h), w, h), (0, 0, int(0.88 * w), int(0.9 * h))):
            copy = embed_rows(embedder, "c", [(0, jpeg(original.crop(box), 60))])
            queried = [(f, v) for _, f, v, _ in copy if is_query_row(f)]
            plain = max(cos(v, o) for f, v in queried if is_stored_row(f) for o in stored)
            shifted = max(cos(v, o) for f, v in queried if not is_stored_row(f) for o in stored)
            unrelated = max(cos(v, o) for _, v in queried for o in others)
            assert shifted > plain + 0.1, (s, box, plain, shifted)
            assert shifted > unrelated, (s, box, shifted, unrelated)


def test_one_pass_mirror_row_equals_embedding_the_flipped_array() -> None:
    embedder = PerceptualEmbedder()
    rgb = np.asarray(scene(6))
    vector, mirror = embedder.embed_with_mirror(rgb)
    assert cos(vector, embedder.embed_rgb(rgb)) > 0.9999
    assert cos(mirror, embedder.embed_rgb(np.ascontiguousarray(rgb[:, ::-1]))) > 0.999
    assert cos(vector, mirror) < 0.9  # the scene is not symmetric: the rows differ


def test_the_store_knows_where_mirror_rows_start() -> None:
    from atlas_core.store.vectors import DEFAULT_EMBEDDER, MIRROR_ROWS, QUERY_ONLY_ROWS

    assert MIRROR_ROWS == MIRROR_OFFSET  # the hunt queries frames and zoomed centres only
    assert 2 * MIRROR_ROWS == ZOOM_OFFSET
    # ...and the shifted windows, which are never stored.
    assert QUERY_ONLY_ROWS == QUERY_ONLY_OFFSET
    assert all(is_query_row(o) and not is_stored_row(o) for o in SHIFT_OFFSETS)
    assert all(is_stored_row(o) for o in (0, MIRROR_OFFSET, ZOOM_OFFSET + MIRROR_OFFSET + 7))
    # The grey row is stored and only matched, like the mirrors.
    assert is_stored_row(GREY_OFFSET + 3) and not is_query_row(GREY_OFFSET + 3)
    assert DEFAULT_EMBEDDER == PerceptualEmbedder.name


def test_bars_are_cut_in_pairs_and_a_flat_backdrop_is_picture() -> None:
    rgb = np.asarray(scene(7))
    boxed = np.asarray(letterbox(scene(7)))
    assert trim_bars(boxed).shape == (270, 480, 3)  # the two 45-line black bars
    framed = np.full((400, 700, 3), (200, 40, 90), np.uint8)
    framed[20:380, 30:670] = rgb
    assert trim_bars(framed).shape == rgb.shape  # an added border, all four sides
    # A flat backdrop reaching the top edge is picture: cutting it would depend on how far a
    # copy's rotation or crop lets it reach (preprocess.trim_borders cuts it).
    backdrop = rgb.copy()
    backdrop[:120] = (40, 200, 210)
    assert trim_bars(backdrop).shape == rgb.shape
    with pytest.raises(ValueError, match="expected an RGB array"):
        trim_bars(rgb[:, :, 0])


def test_hue_turns_and_crops_stay_near_one_of_the_originals_rows() -> None:
    embedder = PerceptualEmbedder()
    original = scene(8)
    rows = frame_rows(embedder, np.asarray(original))
    stored = [0, MIRROR_OFFSET, ZOOM_OFFSET, ZOOM_OFFSET + MIRROR_OFFSET, GREY_OFFSET]
    assert [o for o, _ in rows] == stored + list(SHIFT_OFFSETS)
    base, zoom = rows[0][1], rows[2][1]
    others = max(cos(base, embedder.embed(jpeg(scene(s)))) for s in range(20, 30))
    # A hue turn keeps brightness (the largest of R, G, B): the copy stays where it was.
    hsv = np.asarray(original.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(int) + 30) % 256
    turned = Image.fromarray(hsv, "HSV").convert("RGB")
    assert cos(base, embedder.embed(jpeg(turned))) > 0.98 > others
    # A 12% crop: the copy's own row is nearer the original's zoomed row than its base row.
    w, h = original.size
    cropped = original.crop((int(0.05 * w), int(0.07 * h), int(0.93 * w), int(0.95 * h)))
    copy = embedder.embed(jpeg(cropped, 60))
    assert cos(copy, zoom) > cos(copy, base)
    assert cos(copy, zoom) > 0.9 > others


def test_a_letterbox_around_a_turned_dark_border_is_still_cut() -> None:
    """The simulator's second re-upload: a dark border, a small turn, then letterboxed to
    4:3. The black bar meets the border's dark grey at once (no step into the picture within
    the bar colour's tolerance), which is still the bar's end: a fading backdrop drifts."""
    embedder = PerceptualEmbedder()
    original = scene(9)
    turned = Image.new("RGB", (700, 400), (20, 20, 20))
    turned.paste(original, (30, 20))
    turned = turned.resize((640, 360)).rotate(3, fillcolor=(20, 20, 20))
    boxed = np.asarray(letterbox(turned))
    assert trim_bars(boxed).shape[0] == 270  # the two 45-line bars, not the frame
    # The rows the hunt queries (its own and the zoomed centre) find the original's rows.
    copy = [v for o, v in frame_rows(embedder, boxed) if o in (0, ZOOM_OFFSET)]
    stored = [v for _, v in frame_rows(embedder, np.asarray(original))]
    others = [v for s in range(20, 30) for _, v in frame_rows(embedder, np.asarray(scene(s)))]
    best = max(cos(c, v) for c in copy for v in stored)
    assert best > 0.9 > 0.6 > max(cos(c, v) for c in copy for v in others)


def test_a_greyscale_copy_is_near_the_grey_row_of_an_original_in_colour() -> None:
    """Brightness (the largest of R, G, B) is what a hue turn keeps; a greyscale copy's is the
    original's luma instead, far from its brightness where the design's colours differ in one
    and not the other (two colours of one grey). The original in colour stores its grey row
    (matched only), which the copy's own row finds; a grey original has no such row."""
    embedder = PerceptualEmbedder()
    original = Image.open(Path(__file__).parent / "data" / "isoluminant_b.jpg").convert("RGB")
    rows = dict(frame_rows(embedder, np.asarray(original)))
    grey = original.convert("L").convert("RGB")
    copy = embedder.embed(jpeg(grey, 80))
    own = max(cos(copy, rows[o]) for o in (0, ZOOM_OFFSET))
    assert cos(copy, rows[GREY_OFFSET]) > 0.99 > own + 0.05, (cos(copy, rows[GREY_OFFSET]), own)
    assert GREY_OFFSET not in dict(frame_rows(embedder, np.asarray(grey)))
