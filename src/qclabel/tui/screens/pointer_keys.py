"""The pixel tools' cursor keys, one binding id per key and step so a site can remap
each in its keymap (hjkl and the arrows alike)."""

from __future__ import annotations

from textual.binding import Binding


def cursor_bindings() -> list[Binding]:
    """hjkl and the arrows move one display cell, shift ten cells, ctrl one image pixel."""
    out = []
    for key, arrow, dx, dy in (
        ("h", "left", -1, 0),
        ("l", "right", 1, 0),
        ("k", "up", 0, -1),
        ("j", "down", 0, 1),
    ):
        name = {"left": "left", "right": "right", "up": "up", "down": "down"}[arrow]
        out += [
            Binding(
                f"{key},{arrow}",
                f"nudge({dx},{dy},'cell')",
                f"Cursor {name}",
                id=f"pointer.{name}",
                show=False,
            ),
            Binding(
                f"{key.upper()},shift+{arrow}",
                f"nudge({dx},{dy},'ten')",
                f"Cursor {name} x10",
                id=f"pointer.{name}_10",
                show=False,
            ),
            Binding(
                f"ctrl+{arrow}",
                f"nudge({dx},{dy},'pixel')",
                f"Cursor {name} 1 px",
                id=f"pointer.{name}_px",
                show=False,
            ),
        ]
    return out
