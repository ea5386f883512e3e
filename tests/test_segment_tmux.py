"""Segmentation mode through a real terminal (tmux, half-cell): a stroke typed as one
key burst (as a coalesced SSH packet delivers it) is one journal event with every
cursor position in it; the app killed with SIGKILL and started again shows the masks."""

from __future__ import annotations

import os
import signal


from qclabel import identity
from qclabel.core.mask import Mask
from qclabel.project import Project
from segment_support import sample_project
from test_key_order_tmux import _journal, _label_cmd, pytestmark, term  # noqa: F401


def test_a_stroke_burst_then_kill_and_reopen(tmp_path, term):  # noqa: F811
    user = identity.current_user()
    project = sample_project(tmp_path, "paint")
    project.add_role("admin", user, "annotator")
    cmd = _label_cmd(project.root, "--task", "segmentation")
    term.start(cmd)
    term.wait_for(lambda: "tool   brush" in term.screen(), "the mask screen")
    # class run, radius 6, pen down, ten cells right, three down, pen up: one write
    term("send-keys", "1", *["]"] * 3, "Space", *["l"] * 10, *["j"] * 3, "Space")
    term.wait_for(lambda: len(_journal(project.root, user)) >= 1, "the stroke saved")
    term.wait_for(lambda: "saved: new run mask" in term.screen(), "the saved message")
    events = _journal(project.root, user)
    assert len(events) == 1  # one stroke, one event
    [m] = [Mask.from_dict(d) for d in events[0]["after"]["masks"]]
    full = m.full(640, 480)
    # the cursor started at the centre (320, 240); the path is in the mask
    assert full[240, 320] and full[240, 330] and m.x2 > 340 and m.y2 > 250
    assert m.cls == "run" and m.area > 2000 and m.severity == "major"
    term("send-keys", "u")
    term.wait_for(lambda: "undone:" in term.screen(), "the undo saved")
    term("send-keys", "r")
    # "redone" shows once the line is durable and acknowledged; a line in the journal
    # but past the mark (the app killed between the two) is rightly not the state
    term.wait_for(lambda: "redone:" in term.screen(), "the redo saved")
    assert len(_journal(project.root, user)) == 3
    pid = int(term("display-message", "-p", "#{pane_pid}").strip())
    os.kill(pid, signal.SIGKILL)  # no clean exit
    term.wait_for(
        lambda: "tool   brush" not in term.screen() or term("list-sessions").strip() == "",
        "the app gone",
        timeout=20,
    )
    state = Project.open(project.root).store.state(user)
    image = events[0]["image"]
    [kept] = state.annotation(image).masks
    assert (kept.full(640, 480) == full).all()  # the exact raster after undo + redo
    term.stop()
    term.start(cmd)
    term.wait_for(lambda: "tool   brush" in term.screen(), "the mask screen again")
    term.wait_for(lambda: "1 run major" in term.screen(), "the mask in the list")  # 30 mm2 > 20
    term("send-keys", "q")
