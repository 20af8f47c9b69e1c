"""Frames and embedders: thumbnails the API publishes -> 512-d vectors; ``compare`` decides.

from atlas_core.vision import compare
compare(original_jpeg, candidate_jpeg).duplicate
"""

from atlas_core.vision.compare import Comparison, compare

__all__ = ["Comparison", "compare"]
