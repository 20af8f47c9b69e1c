"""An image ready for comparison (``Frame``): prepared, with its ORB keypoints, serialisable
so the hunt keeps each stored video's frame beside it (``FRAME_VERSION`` names the settings).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import cv2
import numpy as np

from atlas_core.vision.compare.tuning import FEATURES, MIN_QUALITY, RATIO
from atlas_core.vision.preprocess import (
    WORK_SIZE,
    Prepared,
    colour_planes,
    prepare,
)

# Stored frames (``Frame.to_bytes``) made with other settings are prepared again.
FRAME_VERSION = f"orb{FEATURES}-work{WORK_SIZE}-v6"


def _detector() -> cv2.ORB:
    # A new detector per call: OpenCV's feature objects are not safe to share across threads.
    orb: cv2.ORB = cv2.ORB.create(
        nfeatures=FEATURES, fastThreshold=12, edgeThreshold=15, patchSize=31
    )
    return orb


@dataclass(frozen=True)
class _Features:
    keypoints: np.ndarray  # (N, 2) float32
    descriptors: np.ndarray | None


def _features(gray: np.ndarray) -> _Features:
    kps, des = _detector().detectAndCompute(gray, None)
    pts = np.array([kp.pt for kp in kps], dtype=np.float32).reshape(-1, 2)
    return _Features(pts, des)


class Frame:
    """One image ready for ``compare_frames``: prepared, with its keypoints (and those of its
    mirror image, computed when first needed). Serialisable, to keep beside the image:

        frame = Frame.of(jpeg_bytes)
        blob = frame.to_bytes()            # ~90-240 kB
        same = Frame.from_bytes(blob)
    """

    def __init__(
        self, prepared: Prepared, features: _Features, mirror: _Features | None = None
    ) -> None:
        self.prepared = prepared
        self.features = features
        self._mirror = mirror

    @classmethod
    def of(cls, image: bytes) -> Frame:
        """ValueError if ``image`` cannot be decoded."""
        return cls.from_prepared(prepare(image))

    @classmethod
    def from_prepared(cls, prepared: Prepared) -> Frame:
        if prepared.quality < MIN_QUALITY:
            return cls(prepared, _Features(np.empty((0, 2), np.float32), None))
        return cls(prepared, _features(prepared.gray))

    @property
    def mirror(self) -> _Features:
        if self._mirror is None:
            if self.features.descriptors is None:
                self._mirror = self.features
            else:
                self._mirror = _features(np.ascontiguousarray(self.prepared.gray[:, ::-1]))
        return self._mirror

    def to_bytes(self) -> bytes:
        p = self.prepared
        out = io.BytesIO()
        des = self.features.descriptors
        same = p.untrimmed is p.gray or np.array_equal(p.untrimmed, p.gray)
        arrays = {
            "gray": p.gray,
            "untrimmed": np.empty((0, 0), np.uint8) if same else p.untrimmed,
            "meta": np.array([p.quality, *p.original_shape, *p.trimmed_shape, *p.bars], np.float64),
            # ``colour`` and ``bright`` are made again from it (``colour_planes``).
            "rgb": p.rgb,
            "keypoints": self.features.keypoints,
            "descriptors": des if des is not None else np.empty((0, 32), np.uint8),
        }
        # An .npz (``np.load`` reads it) deflated at level 1: about the size of
        # ``np.savez_compressed``'s level 6 at a third of its time (every embedded video pays it).
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for name, array in arrays.items():
                with z.open(f"{name}.npy", "w") as f:
                    np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Frame:
        """ValueError if ``data`` is not a frame's bytes (``to_bytes``)."""
        try:
            with np.load(io.BytesIO(data)) as z:
                gray, untrimmed, meta = z["gray"], z["untrimmed"], z["meta"]
                rgb = z["rgb"]
                kps, des = z["keypoints"], z["descriptors"]
            if meta.shape != (9,):
                raise ValueError(f"meta of shape {meta.shape}, expected (9,)")
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"not a stored compare frame ({len(data)} bytes): {exc}") from None
        prepared = Prepared(
            gray=gray,
            quality=float(meta[0]),
            original_shape=(int(meta[1]), int(meta[2])),
            trimmed_shape=(int(meta[3]), int(meta[4])),
            untrimmed=untrimmed if untrimmed.size else gray,
            rgb=rgb,
            bars=(int(meta[5]), int(meta[6]), int(meta[7]), int(meta[8])),
            **colour_planes(rgb),
        )
        return cls(prepared, _Features(kps, des if len(des) else None))


def _match(a: _Features, b: _Features) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-test matches: points in ``a`` and the matching points in ``b``."""
    if a.descriptors is None or b.descriptors is None or len(a.keypoints) < 2:
        return np.empty((0, 2), np.float32), np.empty((0, 2), np.float32)
    if len(b.keypoints) < 2:
        return np.empty((0, 2), np.float32), np.empty((0, 2), np.float32)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(a.descriptors, b.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    src = np.array([a.keypoints[m.queryIdx] for m in good], np.float32).reshape(-1, 2)
    dst = np.array([b.keypoints[m.trainIdx] for m in good], np.float32).reshape(-1, 2)
    return src, dst
