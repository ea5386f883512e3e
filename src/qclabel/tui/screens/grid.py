"""Grid triage for pass/fail lines where nearly every part passes.

A page of thumbnails sized to the terminal; the cursor moves between cells; space (or
the taxonomy's fail key) marks the cell as fail, a class key names its defect (and
marks it), the pass key marks it pass; enter accepts the page by the rule of
`tui.triage`: marked cells get their mark, unlabeled cells become pass, cells that
already had a label keep it. One journal event per changed image, all made durable
together (one fsync: the page is saved entirely or not at all). Then the next page.
"""

from __future__ import annotations

import asyncio
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...core.naming import image_name
from ...errors import QclabelError
from ...render import FrameSource, Viewport
from ...render.frames import encode_sixel
from ...render.sheet import (
    MAX_SLOT_COLS,
    MIN_SLOT_COLS,
    TARGET_SLOT_COLS,
    SheetLayout,
    compose_sheet,
    grid_thumb_cols,
    halfcells,
)
from ..triage import FAIL, PASS, Mark, page_plan
from ..widgets.panels import status_text
from ..widgets.sheet_view import SheetView
from .grid_captions import cell_captions


class PageReady(Message):
    def __init__(self, token: int, cells: list, sixel: str | None) -> None:
        super().__init__()
        self.token, self.cells, self.sixel = token, cells, sixel


class GridScreen(Screen):
    HELP_TITLE = "grid triage"
    BINDINGS = [
        Binding("left,h", "cursor(-1, 0)", "Left", id="grid.left", show=False),
        Binding("right,l", "cursor(1, 0)", "Right", id="grid.right", show=False),
        Binding("up,k", "cursor(0, -1)", "Up", id="grid.up", show=False),
        Binding("down,j", "cursor(0, 1)", "Down", id="grid.down", show=False),
        Binding("space", "mark", "Mark fail", id="grid.mark"),
        Binding("enter", "accept", "Accept page", id="grid.accept"),
        Binding("n", "page(1)", "Next page", id="grid.next_page"),
        Binding("b", "page(-1)", "Prev page", id="grid.prev_page"),
        Binding("u", "undo_page", "Undo page", id="grid.undo"),
        Binding("minus", "thumb_size(-4)", "Smaller", id="grid.smaller"),
        Binding("equals_sign,plus", "thumb_size(4)", "Larger", id="grid.larger"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sheet_layout: SheetLayout | None = None
        self.page_start = 0
        self.cursor = 0
        self.marks: dict[str, Mark] = {}  # what the operator set on this page
        self.last_page: int = 0  # changes committed by the last accept (for undo)
        self._token = 0
        self._thumbs: FrameSource | None = None
        self._area: tuple[int, int] | None = None
        self.slot_cols = TARGET_SLOT_COLS

    @property
    def labeler(self):
        return self.app.labeler

    def compose(self) -> ComposeResult:
        yield SheetView(self.app.graphics, id="sheet")
        yield Static(id="message")
        yield Static(id="statusbar")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.app.user} · grid triage"
        self.slot_cols = grid_thumb_cols(self.app.project.config)
        # Thumbnails are small text-layer frames; the page is encoded as one picture.
        self._thumbs = FrameSource(self.app.project.root, "text", workers=2, capacity=96)
        self.page_start = self.labeler.index

    def on_unmount(self) -> None:
        if self._thumbs is not None:
            self._thumbs.close()

    @property
    def sheet(self) -> SheetView:
        return self.query_one("#sheet", SheetView)

    def page_ids(self) -> list[str]:
        per = self.sheet_layout.per_page if self.sheet_layout else 0
        return self.labeler.queue[self.page_start : self.page_start + per]

    def on_sheet_view_resized(self, event: SheetView.Resized) -> None:
        self._area = (event.cols, event.rows)
        self._relayout()

    def _relayout(self) -> None:
        if self._area is None:
            return
        self.sheet_layout = SheetLayout.for_area(
            *self._area, *self._cell_px(), slot_cols=self.slot_cols
        )
        self.load_page()

    def action_thumb_size(self, delta: int) -> None:
        """Denser or larger thumbnails for this session (`[grid] thumb_cols` sets the
        start); the page keeps its first image."""
        new = min(MAX_SLOT_COLS, max(MIN_SLOT_COLS, self.slot_cols + delta))
        if new != self.slot_cols:
            self.slot_cols = new
            self.cursor = 0
            self._relayout()
        lay = self.sheet_layout
        if lay is not None:
            self.say(f"thumbnails {self.slot_cols} columns wide: {lay.per_page} per page")

    def _cell_px(self) -> tuple[int, int]:
        return self.app.cell_px if self.app.graphics == "sixel" else (1, 2)

    # -- building a page ----------------------------------------------------------------
    def load_page(self) -> None:
        if self.sheet_layout is None:
            return
        self._token += 1
        self.cursor = min(self.cursor, max(0, len(self.page_ids()) - 1))
        self.labeler.index = min(self.page_start, max(0, len(self.labeler.queue) - 1))
        self.app.background(self.labeler.save_position)
        self.run_worker(
            self._build_page(self._token, self.page_ids(), self.sheet_layout),
            exclusive=True,
            group="grid-page",
        )
        self.refresh_text(set(range(self.sheet_layout.per_page)))

    async def _build_page(self, token: int, ids: list[str], lay: SheetLayout) -> None:
        tw, th = lay.slot_w - 1, lay.thumb_h
        futures = []
        for image_id in ids:
            rec = self.labeler.record(image_id)
            vp = Viewport.fit(rec.width, rec.height, tw, th, lay.cell_w, lay.cell_h)
            futures.append(asyncio.wrap_future(self._thumbs.request(rec, vp)))
        frames = await asyncio.gather(*futures, return_exceptions=True)
        pictures = [f.picture if not isinstance(f, BaseException) else None for f in frames]
        if self.app.graphics == "sixel":
            sheet = compose_sheet(pictures, lay)
            sixel = await asyncio.wrap_future(self._thumbs.submit(lambda: encode_sixel(sheet)))
            self.post_message(PageReady(token, [], sixel))
        else:
            cells = [halfcells(p, tw, th) if p is not None else None for p in pictures]
            self.post_message(PageReady(token, cells, None))

    def on_page_ready(self, event: PageReady) -> None:
        if event.token == self._token and self.sheet_layout is not None:
            self.sheet.set_page(
                self.sheet_layout, event.cells, event.sixel, self.captions(), self.cursor
            )

    # -- text layer -----------------------------------------------------------------------
    def captions(self) -> list[Text]:
        return cell_captions(self.page_ids(), self.page_start, self.marks, self.labeler.annotation)

    def plan(self):
        return page_plan(self.page_ids(), self.marks, self.labeler.annotation)

    def refresh_text(self, changed: set[int]) -> None:
        self.sheet.set_captions(self.captions(), self.cursor, changed)
        done, total = self.labeler.done_total()
        under = self._cursor_image()
        name = image_name(self.labeler.record(under)) if under else ""
        self.query_one("#statusbar", Static).update(
            status_text(
                self.page_start + self.cursor + 1,
                total,
                done,
                self.labeler.labels_per_hour(),
                self.labeler.queue_name,
                None,
                f"enter: {self.plan().describe()}  {name}",
            ),
            layout=False,
        )

    def say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#message", Static)
        msg.set_class(error, "error")
        msg.update(text, layout=False)

    # -- keys -------------------------------------------------------------------------------
    def action_cursor(self, dx: int, dy: int) -> None:
        n = len(self.page_ids())
        if not n or self.sheet_layout is None:
            return
        old = self.cursor
        self.cursor = min(max(0, self.cursor + dx + dy * self.sheet_layout.cols), n - 1)
        self.refresh_text({old, self.cursor})

    def _cursor_image(self) -> str | None:
        ids = self.page_ids()
        return ids[self.cursor] if self.cursor < len(ids) else None

    def action_mark(self) -> None:
        image_id = self._cursor_image()
        if image_id is None:
            return
        if image_id in self.marks:
            del self.marks[image_id]
        else:
            self.marks[image_id] = Mark(FAIL)
        self.refresh_text({self.cursor})

    def on_key(self, event: events.Key) -> None:
        tax, char = self.app.project.taxonomy, event.character or ""
        image_id = self._cursor_image()
        if image_id is None or not char:
            return
        mark = self.marks.get(image_id)
        if char == tax.fail_key:
            event.stop()
            self.marks[image_id] = mark if mark and mark.verdict == FAIL else Mark(FAIL)
        elif char == tax.pass_key:
            event.stop()
            self.marks[image_id] = Mark(PASS)
        elif (cls := tax.by_hotkey(char)) is not None:
            event.stop()
            self.marks[image_id] = Mark(FAIL, cls.name)
        else:
            return
        self.refresh_text({self.cursor})

    def action_accept(self) -> None:
        if not self.page_ids():
            return
        plan = self.plan()
        try:
            changes = self.labeler.apply_many(plan.writes, note="grid triage")
        except QclabelError as exc:
            self.say(f"NOT saved: {exc}", error=True)
            return
        self.last_page = len(changes)
        self.marks.clear()
        per = self.sheet_layout.per_page if self.sheet_layout else 1
        last = self.page_start + per >= len(self.labeler.queue)
        self.say(f"saved: {plan.describe()}" + ("; that was the last page" if last else ""))
        if last:
            self.refresh_text(set(range(per)))
        else:
            self.action_page(1)

    def action_page(self, direction: int) -> None:
        per = self.sheet_layout.per_page if self.sheet_layout else 1
        start = self.page_start + direction * per
        if 0 <= start < len(self.labeler.queue):
            self.page_start, self.cursor = start, 0
            self.load_page()
        elif direction > 0:
            self.say("last page: all images on it are saved" if not self.marks else "last page")

    def action_undo_page(self) -> None:
        if not self.last_page:
            self.say("nothing to undo")
            return
        try:
            for _ in range(self.last_page):
                self.labeler.undo()
        except QclabelError as exc:
            self.say(f"NOT saved: {exc}", error=True)
            return
        self.last_page = 0
        self.say("page undone")
        self.action_page(-1)

    def extra_help_rows(self) -> list[tuple[str, str, str]]:
        tax = self.app.project.taxonomy
        return [
            (tax.fail_key, "mark the cell fail", "taxonomy.fail_key"),
            (tax.pass_key, "mark the cell pass (also over a fail)", "taxonomy.pass_key"),
        ] + [(c.hotkey, f"mark fail: {c.name}", "taxonomy class") for c in tax.classes]
