"""Embedders turn an image into a 512-d unit vector for near-duplicate search.

    vec = PerceptualEmbedder().embed(jpeg_bytes)     # numpy float32, shape (512,)

``PerceptualEmbedder`` (the default) is deterministic and dependency-light: the image with its
bars and uniform borders trimmed (as ``compare`` does), in grayscale, its centre (10% margins
cut, so crops and borders change little of it) blurred and resized to 32x16, mean-centred and
L2-normalised. Decoded at a reduced scale (JPEG DCT scaling), a frame and its mirror take a few
milliseconds. Brightness and contrast changes, re-encoding, small shifts and rotations move it
little, so a re-upload's thumbnail lands within a small cosine distance of the original's.
A frame's mirror row embeds the decoded array flipped (``embed_rgb(rgb[:, ::-1])``).
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from atlas_core.vision.preprocess import decode, trim_borders

DIMENSION = 512
# Frame rows ``MIRROR_OFFSET + i`` hold the descriptor of frame i flipped left-right, so a
# mirrored re-upload is near one of the original's rows.
MIRROR_OFFSET = 1000


class Embedder(Protocol):
    name: str

    def embed(self, image: bytes) -> np.ndarray: ...

    def embed_rgb(self, rgb: np.ndarray) -> np.ndarray:
        """The vector of an already decoded RGB array (H, W, 3): the mirror row is
        ``embed_rgb(rgb[:, ::-1])``, with no re-encoding."""
        ...


# The descriptor sees the trimmed frame's centre: a crop of up to 15% or a border moves what
# it sees a little, and the blur (about two output cells) makes a small shift, rotation or
# rescaling cost little. 32 x 16 cells = 512 values. Margin and blur were chosen on planted
# copies among template look-alikes (eleven edit kinds and their combinations): recall@20
# 0.9475 at 15%/4.0 (v2), 0.9595 at 10%/7.0 (v3).
CENTRE_MARGIN = 0.10
CELL_BLUR = 7.0  # sigma, in pixels of the 128 x 72 intermediate image
EMBED_DECODE = 256  # JPEGs are decoded at a reduced scale, at least this long


class PerceptualEmbedder:
    """Tiny-image perceptual vector of the trimmed frame's blurred centre: 32x16 grey cells,
    centred, unit length."""

    name = "perceptual-centre-32x16-v3"

    def embed(self, image: bytes) -> np.ndarray:
        return self.embed_rgb(decode(image, at_least=EMBED_DECODE))

    def embed_rgb(self, rgb: np.ndarray) -> np.ndarray:
        return unit(self._cells(rgb).reshape(DIMENSION))

    def embed_with_mirror(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The vector of ``rgb`` and of its mirror image. Every step (resize, symmetric
        centre crop, blur) commutes with a left-right flip, so the mirror's vector is the
        cell grid flipped: one pass for both rows."""
        cells = self._cells(rgb)
        return unit(cells.reshape(DIMENSION)), unit(cells[:, ::-1].reshape(DIMENSION))

    def _cells(self, rgb: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(np.ascontiguousarray(trim_borders(rgb)), cv2.COLOR_RGB2GRAY)
        small = cv2.resize(grey, (128, 72), interpolation=cv2.INTER_AREA).astype(np.float32)
        dy, dx = int(72 * CENTRE_MARGIN), int(128 * CENTRE_MARGIN)
        centre = cv2.GaussianBlur(small[dy : 72 - dy, dx : 128 - dx], (0, 0), CELL_BLUR)
        cells: np.ndarray = cv2.resize(centre, (32, 16), interpolation=cv2.INTER_AREA)
        centred: np.ndarray = cells - cells.mean()
        return centred


def embed_with_mirror(embedder: Embedder, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A frame's row and its mirror row: the embedder's own one-pass method when it has one,
    else ``embed_rgb`` of the flipped decoded array (never re-encoded)."""
    both = getattr(embedder, "embed_with_mirror", None)
    if both is not None:
        pair: tuple[np.ndarray, np.ndarray] = both(rgb)
        return pair
    return embedder.embed_rgb(rgb), embedder.embed_rgb(np.ascontiguousarray(rgb[:, ::-1]))


def unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to unit length (float32); a zero vector (a flat image) becomes a
    fixed unit vector, so cosine distance stays defined."""
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        return np.full(DIMENSION, 1.0 / np.sqrt(DIMENSION), np.float32)
    result: np.ndarray = (vector / norm).astype(np.float32)
    return result
