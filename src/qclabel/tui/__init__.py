"""The Textual labeling app (the only package that imports Textual).

    app = build_app(project, user, graphics="halfcell", theme="dark")   # tui.app
    app.run()

How to add a screen (a new labeling mode or a dialog):

1. One module per screen in `tui/screens/`, e.g. `tui/screens/boxes.py` with
   `class BoxScreen(Screen)` (or `ImageScreen` from `screens/viewer.py` to get the
   frame display, prefetch, zoom/pan and window/level keys for free).
2. `BINDINGS` on the class; every `Binding` has an `id` ("<screen>.<action>") and a
   description. The help screen (`?`), the footer and key remapping (`[keys]` in the
   project config, `~/.config/qclabel/keys.toml`) all work from those ids.
3. Context comes from the app: `self.app.project`, `self.app.user`, `self.app.labeler`
   (queue, position, `apply(image, *edits, note=)` = journaled + fsynced commit with
   undo), `self.app.session` (the user's one `AnnotatorSession`, for `record(kind, ...)`
   events such as review/final), `self.app.frames` (the FrameSource) and
   `self.app.graphics` / `self.app.cell_px`.
   Labels change ONLY via `core.edits` + `labeler.apply` (or `session.record`), before
   the screen shows "saved"; catch `QclabelError` and show it, staying put.
4. A labeling mode: add a `Mode(...)` line to `MODES` in `tui/modes.py` (home screen
   key, title, "module:Class", the taxonomy tasks it labels, the role it needs). A
   dialog: `self.app.push_screen(MyDialog(), callback)`.
5. Tests: `tests/test_tui_<name>.py`, `build_app(..., graphics="halfcell")`,
   `async with app.run_test(size=(100, 30)) as pilot:` and `await pilot.press(...)`.
"""
