"""Colour themes (Textual `Theme` objects); layout lives in themes/qclabel.tcss.

`high-contrast` is for shop-floor monitors seen from a distance or at an angle:
pure black and white, saturated accents, no dim text.
"""

from __future__ import annotations

from textual.theme import Theme

THEMES = {
    "dark": Theme(
        name="qclabel-dark",
        primary="#4fc3f7",
        secondary="#81c784",
        accent="#ffb74d",
        warning="#ffb74d",
        error="#ef5350",
        success="#66bb6a",
        foreground="#e0e0e0",
        background="#121212",
        surface="#1e1e1e",
        panel="#2a2a2a",
        dark=True,
    ),
    "light": Theme(
        name="qclabel-light",
        primary="#0277bd",
        secondary="#2e7d32",
        accent="#e65100",
        warning="#e65100",
        error="#c62828",
        success="#2e7d32",
        foreground="#202020",
        background="#fafafa",
        surface="#ffffff",
        panel="#e8e8e8",
        dark=False,
    ),
    "high-contrast": Theme(
        name="qclabel-high-contrast",
        primary="#ffff00",
        secondary="#00ffff",
        accent="#ff00ff",
        warning="#ffff00",
        error="#ff3030",
        success="#00ff00",
        foreground="#ffffff",
        background="#000000",
        surface="#000000",
        panel="#000000",
        dark=True,
    ),
}


def theme_names() -> list[str]:
    return list(THEMES)
