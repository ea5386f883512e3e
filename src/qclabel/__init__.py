"""qclabel: terminal-native image labeling for manufacturing quality inspection."""

__version__ = "0.1.0"
