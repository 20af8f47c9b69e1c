"""Embedders turn an image into a 512-d unit vector for near-duplicate search.

    vec = PerceptualEmbedder().embed(jpeg_bytes)     # numpy float32, shape (512,)

``PerceptualEmbedder`` (the default) is deterministic and dependency-light: the image with its
bars and uniform borders trimmed (as ``compare`` does), in grayscale, resized to 32x16,
mean-centred and L2-normalised. Brightness and contrast changes,
re-encoding and small noise move it little, so a lightly altered re-upload's thumbnail lands
within a small cosine distance of the original's.
"""

from __future__ import annotations

import io
from typing import Protocol

import numpy as np
from PIL import Image

from atlas_core.vision.preprocess import decode, trim_borders

DIMENSION = 512
# Frame rows ``MIRROR_OFFSET + i`` hold the descriptor of frame i flipped left-right, so a
# mirrored re-upload is near one of the original's rows.
MIRROR_OFFSET = 1000


def mirrored(image: bytes) -> bytes:
    """The image flipped left-right, as PNG bytes (lossless)."""
    flipped = Image.fromarray(np.ascontiguousarray(decode(image)[:, ::-1]))
    out = io.BytesIO()
    flipped.save(out, "PNG")
    return out.getvalue()


class Embedder(Protocol):
    name: str

    def embed(self, image: bytes) -> np.ndarray: ...


class PerceptualEmbedder:
    """Tiny-image perceptual vector: 32x16 grayscale, centred, unit length."""

    name = "perceptual-32x16-trim"

    def embed(self, image: bytes) -> np.ndarray:
        trimmed = Image.fromarray(trim_borders(decode(image)))
        small = trimmed.convert("L").resize((32, 16), Image.Resampling.BILINEAR)
        pixels = np.asarray(small, dtype=np.float32).reshape(DIMENSION)
        centred = pixels - pixels.mean()
        norm = float(np.linalg.norm(centred))
        if norm == 0.0:  # a flat image: any fixed unit vector keeps cosine distance defined
            centred = np.ones(DIMENSION, dtype=np.float32)
            norm = float(np.sqrt(DIMENSION))
        result: np.ndarray = (centred / norm).astype(np.float32)
        return result


def build_embedder(model_path: str | None) -> Embedder:
    """The configured embedder: an ``OnnxEmbedder`` when a model path is set (VISION_MODEL_PATH),
    else the default ``PerceptualEmbedder``."""
    if not model_path:
        return PerceptualEmbedder()
    from atlas_core.vision.onnx_embedder import OnnxEmbedder

    return OnnxEmbedder(model_path)
