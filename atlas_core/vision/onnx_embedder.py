"""A learned 512-d descriptor: any ONNX image model run on CPU with onnxruntime.

    pip install 'atlas[vision]'                      # onnxruntime
    VISION_MODEL_PATH=/models/copy-detect.onnx       # a local file; nothing is downloaded

    embedder = OnnxEmbedder(Path("/models/copy-detect.onnx"))
    vec = embedder.embed(jpeg_bytes)                 # float32 (512,), unit length

The model takes one float32 image ``(1, 3, S, S)`` (RGB, ImageNet mean/std normalised; S is
read from the model's input shape, 224 when dynamic) and returns 512 values (any shape that
flattens to 512). The image is trimmed of bars first, as ``compare`` does. ``name`` carries
the weights' sha256 prefix, so vectors record exactly which model made them and changing the
file triggers re-embedding (``atlas reembed``).

Stage 1 only: the decision stays with ``compare``. After enabling a model, re-embed, then check
the hunt's stage-1 recall with ``bench/ann.py`` and the decision with ``bench/reupload.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from atlas_core.vision.embedder import DIMENSION
from atlas_core.vision.preprocess import decode, trim_borders

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


class OnnxEmbedder:
    def __init__(self, model_path: Path | str) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ValueError(
                f"VISION_MODEL_PATH {str(path)!r} is not a file; expected a local .onnx model"
            )
        try:
            import onnxruntime
        except ImportError:
            raise ValueError(
                "VISION_MODEL_PATH is set but onnxruntime is missing: pip install 'atlas[vision]'"
            ) from None
        data = path.read_bytes()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        try:
            self._session: Any = onnxruntime.InferenceSession(
                data, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ValueError(f"{path.name}: not a loadable ONNX model: {exc}") from None
        first = self._session.get_inputs()[0]
        self._input = first.name
        shape = first.shape
        side = shape[-1] if len(shape) == 4 and isinstance(shape[-1], int) else 224
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            raise ValueError(
                f"{path.name}: input shape {shape}; expected (batch, 3, height, width) RGB"
            )
        self.size = int(side)
        self.name = f"onnx-{path.stem}-{hashlib.sha256(data).hexdigest()[:12]}"

    def embed(self, image: bytes) -> np.ndarray:
        return self.embed_rgb(decode(image, at_least=2 * self.size))

    def embed_rgb(self, array: np.ndarray) -> np.ndarray:
        rgb = Image.fromarray(np.ascontiguousarray(trim_borders(array)))
        small = rgb.resize((self.size, self.size), Image.Resampling.BILINEAR)
        pixels = (np.asarray(small, np.float32) / 255.0 - MEAN) / STD
        batch = np.ascontiguousarray(pixels.transpose(2, 0, 1)[None])
        output = np.asarray(self._session.run(None, {self._input: batch})[0], np.float32)
        vector = output.reshape(-1)
        if vector.shape != (DIMENSION,) or not np.isfinite(vector).all():
            raise ValueError(
                f"model {self.name} returned {vector.size} values; expected {DIMENSION} finite"
            )
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector = np.ones(DIMENSION, np.float32)
            norm = float(np.sqrt(DIMENSION))
        result: np.ndarray = (vector / norm).astype(np.float32)
        return result
