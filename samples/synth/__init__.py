"""Painters for the bundled sample images (used by samples/generate.py)."""
