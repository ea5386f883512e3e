"""Assembly verification: the template's expected component positions are overlaid;
the operator confirms each with one key: y present, x absent, m misplaced.

The cursor starts on the first position and moves to the next one after each key, so
a good part takes one key per position. Each answer is a `core.edits.set_check`
label change (journaled, undoable). The taxonomy's pass/fail keys set the verdict.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding

from ...core import edits
from ...core.taxonomy import KeypointTemplate
from ...render.overlay import Overlay, draw_positions
from ...render.viewport import Viewport
from .pointer import PointerScreen

OUTCOME_COLOURS = {"present": "#00e676", "absent": "#ff1744", "misplaced": "#ffab00"}
PENDING_COLOUR = "#ffffff"


class AssemblyScreen(PointerScreen):
    HELP_TITLE = "assembly"
    BINDINGS = [
        Binding("y", "check('present')", "Present", id="assembly.present"),
        Binding("x", "check('absent')", "Absent", id="assembly.absent"),
        Binding("m", "check('misplaced')", "Misplaced", id="assembly.misplaced"),
        Binding("tab", "position(1)", "Next position", id="assembly.next", priority=True),
        Binding("shift+tab", "position(-1)", "Prev position", id="assembly.prev", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.reset_tool()

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · assembly"
        if self.template is None:
            self.say("this taxonomy has no template with expected positions", error=True)

    def reset_tool(self) -> None:
        self.position_index = 0
        self._pending_focus = True

    @property
    def template(self) -> KeypointTemplate | None:
        return next((t for t in self.taxonomy.keypoint_templates if t.positions), None)

    def outcomes(self) -> dict[str, str]:
        return dict(self.annotation().checks)

    def after_frame(self) -> None:
        if self._pending_focus:  # first frame of an image: put the cursor on position 1
            self._pending_focus = False
            self._focus_position()
        else:
            self.redraw()

    def _focus_position(self) -> None:
        t = self.template
        if t is None or self.position_index >= len(t.positions):
            self.redraw()
            return
        _, x, y = t.positions[self.position_index]
        self.move_cursor(round(x), round(y))

    # -- drawing ----------------------------------------------------------------------------
    def draw_tool(self, ov: Overlay, vp: Viewport) -> None:
        t = self.template
        if t is not None:
            colours = {**OUTCOME_COLOURS, "": PENDING_COLOUR}
            draw_positions(ov, vp, t.positions, self.outcomes(), colours)

    def tool_text(self) -> str:
        t = self.template
        if t is None:
            return "no assembly template"
        out = self.outcomes()
        ann = self.annotation()
        lines = [f"template {t.name}", f"verdict  {ann.verdict or '-'}"]
        for n, (name, _x, _y) in enumerate(t.positions):
            mark = ">" if n == self.position_index else " "
            lines.append(f"{mark} {name:<12} {out.get(name, '?')}")
        done = sum(1 for name, _, _ in t.positions if name in out)
        lines.append(f"{done}/{len(t.positions)} checked")
        return "\n".join(lines)

    # -- keys -------------------------------------------------------------------------------------
    def action_check(self, outcome: str) -> None:
        t = self.template
        if t is None or self.record is None or self.position_index >= len(t.positions):
            self.say("every position is checked: tab to revisit one")
            return
        name = t.positions[self.position_index][0]
        if self.commit(edits.set_check(name, outcome), what=f"{name}: {outcome}"):
            self.position_index += 1
            self._focus_position()
        else:
            self.redraw()

    def action_position(self, step: int) -> None:
        t = self.template
        if t is not None and t.positions:
            self.position_index = (min(self.position_index, len(t.positions) - 1) + step) % len(
                t.positions
            )
            self._focus_position()

    def tool_key(self, event: events.Key) -> None:
        char, tax = event.character or "", self.taxonomy
        if not char or self.record is None or char not in (tax.pass_key, tax.fail_key):
            return
        event.stop()
        verdict = "pass" if char == tax.pass_key else "fail"
        self.commit(edits.set_verdict(verdict), what=verdict)
        self.redraw()
