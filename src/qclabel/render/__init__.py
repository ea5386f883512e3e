"""Image -> display frame: decode at display size, window/level, encoders, frame cache
and prefetch, the viewport mapping. No Textual in here."""

from .cache import FrameSource
from .frames import ENCODERS, Frame, make_frame
from .viewport import Viewport

__all__ = ["FrameSource", "Frame", "ENCODERS", "make_frame", "Viewport"]
