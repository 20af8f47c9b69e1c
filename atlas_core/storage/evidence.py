"""Visual evidence layout: ``evidence/<video_id>/<frame_index>.jpg`` plus ``manifest.json``.

    files = evidence_files("dQw4w9WgXcQ", [(0, jpeg0), (1, jpeg1)])
    # {"evidence/dQw4w9WgXcQ/0.jpg": ..., "evidence/dQw4w9WgXcQ/1.jpg": ...,
    #  "evidence/dQw4w9WgXcQ/manifest.json": b'{"video_id": ..., "frames": [...]}'}

A suspected re-upload gets ``evidence/<copy_id>/reupload-<original_id>.jpg`` beside the copy's
frames: ``side_by_side(original, candidate, comparison)``.

The manifest lists, per frame, its index, path, size and sha256, plus the UTC time it was made.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFont

from atlas_core.vision.compare import Comparison
from atlas_core.vision.preprocess import decode, resize_long_side, trim_borders

CONTENT_TYPE = "image/jpeg"
ROOT = "evidence"
MANIFEST = "manifest.json"
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def evidence_prefix(video_id: str) -> str:
    """The folder of one video's evidence: ``evidence/<video_id>/``."""
    if not isinstance(video_id, str) or not _VIDEO_ID.fullmatch(video_id):
        raise ValueError(
            f"invalid video id {video_id!r} for evidence: expected 1-64 characters "
            "from A-Z, a-z, 0-9, '_' and '-' (a YouTube id such as 'dQw4w9WgXcQ')"
        )
    return f"{ROOT}/{video_id}/"


def evidence_files(
    video_id: str, frames: list[tuple[int, bytes]], now: datetime | None = None
) -> dict[str, bytes]:
    """Path -> bytes for each frame and the manifest. Raises ValueError on bad frames."""
    prefix = evidence_prefix(video_id)
    if not isinstance(frames, list | tuple) or not frames:
        raise ValueError(f"store_visual_evidence({video_id!r}) needs at least one (index, bytes)")
    checked: dict[int, bytes] = {}
    for position, frame in enumerate(frames):
        if not (isinstance(frame, tuple | list) and len(frame) == 2):
            raise ValueError(f"frame #{position} must be (frame_index, image_bytes), got {frame!r}")
        index, data = frame
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ValueError(f"frame #{position}: frame_index must be an int >= 0, got {index!r}")
        if not isinstance(data, bytes | bytearray) or not data:
            raise ValueError(f"frame {index}: image bytes must be non-empty bytes")
        if index in checked:
            raise ValueError(f"frame_index {index} appears twice; expected unique indexes")
        checked[index] = bytes(data)
    files = {f"{prefix}{index}.jpg": checked[index] for index in sorted(checked)}
    manifest = {
        "video_id": video_id,
        "created_at": (now or datetime.now(UTC)).isoformat(),
        "frame_count": len(files),
        "frames": [
            {
                "index": index,
                "path": f"{prefix}{index}.jpg",
                "size": len(checked[index]),
                "sha256": hashlib.sha256(checked[index]).hexdigest(),
            }
            for index in sorted(checked)
        ],
    }
    files[prefix + MANIFEST] = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    return files


def reupload_evidence_path(copy_id: str, original_id: str) -> str:
    """Where the side-by-side image of a suspected pair goes, beside the copy's frames."""
    evidence_prefix(original_id)  # validates the id
    return f"{evidence_prefix(copy_id)}reupload-{original_id}.jpg"


def side_by_side(original: bytes, candidate: bytes, comparison: Comparison) -> bytes:
    """A JPEG a person can judge: original | candidate (bars trimmed, same working size),
    the score and decision on top, and lines joining the matched keypoints."""
    left, right = _panel(original), _panel(candidate)
    height = max(left.height, right.height)
    header = 28
    canvas = Image.new("RGB", (left.width + right.width + 8, height + header), (20, 20, 20))
    canvas.paste(left, (0, header))
    canvas.paste(right, (left.width + 8, header))
    draw = ImageDraw.Draw(canvas)
    verdict = "DUPLICATE" if comparison.duplicate else "different"
    mirrored = " (mirrored)" if comparison.mirrored else ""
    draw.text(
        (6, 6),
        f"original | candidate   score {comparison.score:.3f}  {verdict}{mirrored}  "
        f"inliers {comparison.inliers}",
        fill=(255, 255, 255),
        font=ImageFont.load_default(size=15),
    )
    step = max(1, len(comparison.matches) // 60)  # a readable number of lines
    for xo, yo, xc, yc in comparison.matches[::step]:
        draw.line((xo, yo + header, xc + left.width + 8, yc + header), fill=(0, 255, 120), width=1)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=88)
    return out.getvalue()


def _panel(image: bytes) -> Image.Image:
    rgb = resize_long_side(trim_borders(decode(image)))
    return Image.fromarray(rgb)
