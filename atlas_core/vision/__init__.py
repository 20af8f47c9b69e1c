"""Frames and embedders: thumbnails the API publishes -> 512-d vectors."""
