"""Embedders turn an image into a 512-d unit vector for near-duplicate search.

    vec = PerceptualEmbedder().embed(jpeg_bytes)     # numpy float32, shape (512,)

``PerceptualEmbedder`` (the default) is deterministic and dependency-light: the image in
grayscale, resized to 32x16, mean-centred and L2-normalised. Brightness and contrast changes,
re-encoding and small noise move it little, so a lightly altered re-upload's thumbnail lands
within a small cosine distance of the original's.
"""

from __future__ import annotations

import io
from typing import Protocol

import numpy as np
from PIL import Image, UnidentifiedImageError

DIMENSION = 512


class Embedder(Protocol):
    name: str

    def embed(self, image: bytes) -> np.ndarray: ...


class PerceptualEmbedder:
    """Tiny-image perceptual vector: 32x16 grayscale, centred, unit length."""

    name = "perceptual-32x16"

    def embed(self, image: bytes) -> np.ndarray:
        try:
            with Image.open(io.BytesIO(image)) as img:
                small = img.convert("L").resize((32, 16), Image.Resampling.BILINEAR)
        except (UnidentifiedImageError, OSError) as exc:
            raise ValueError(f"not a decodable image ({len(image)} bytes): {exc}") from None
        pixels = np.asarray(small, dtype=np.float32).reshape(DIMENSION)
        centred = pixels - pixels.mean()
        norm = float(np.linalg.norm(centred))
        if norm == 0.0:  # a flat image: any fixed unit vector keeps cosine distance defined
            centred = np.ones(DIMENSION, dtype=np.float32)
            norm = float(np.sqrt(DIMENSION))
        result: np.ndarray = (centred / norm).astype(np.float32)
        return result
