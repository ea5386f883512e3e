"""The Textual app: thin. It owns the one labeling session of the user and the frame
source; screens (one module each under tui/screens) do the work."""

from __future__ import annotations

import asyncio
import gc
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from textual import events
from textual.app import SystemCommand
from textual.binding import Binding
from textual.message import Message

from ..paths import themes_dir
from ..project import Project
from ..render import FrameSource
from ..store import AnnotatorSession
from . import graphics as gfx
from .keymap import merged_keymap
from .keyorder import OrderedKeys
from ..core.queue_filter import parse_queue
from .labeling import QUEUES, Labeler
from .modes import MODES, get_mode, mode_for_task
from .themes import THEMES


class HangUp(Message):
    """The terminal went away (SIGHUP, or its input reported EOF/EIO)."""


class Interrupted(Message):
    """SIGINT: leave as `q` does, with the shell's exit code for it."""


class QclabelApp(OrderedKeys):
    TITLE = "qclabel"
    CSS_PATH = str(themes_dir() / "qclabel.tcss")
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("escape", "home", "Home", id="app.home", show=False),
        Binding("ctrl+p", "command_palette", "Commands", id="app.commands", show=False),
    ]

    def __init__(
        self,
        project: Project,
        session: AnnotatorSession,
        graphics: str,
        cell_px: tuple[int, int],
        theme: str = "dark",
        start: str | None = "classify",
        task: str | None = None,
        queue: str | None = None,
        keymap: dict[str, str] | None = None,
        handle_hangup: bool = False,
    ):
        super().__init__()
        self.project, self.session = project, session
        self.graphics, self.cell_px = graphics, cell_px
        self.label_task = task or _default_task(project)
        self.start_mode = start
        self.labeler = Labeler(project, session)
        self.labeler.resume(queue)
        self.frames = FrameSource(project.root, graphics)
        self.theme_choice = theme
        self._keymap_overrides = keymap or {}
        self._handle_hangup = handle_hangup
        self._interrupted = False
        self._closed = False
        # Small writes (the resume position) off the UI thread, in order.
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qclabel-io")

    def get_driver_class(self):
        driver = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver is LinuxDriver:
            from .terminal import TerminalDriver

            return TerminalDriver
        return driver

    def run(self, *args, **kwargs):
        """SIGINT (kill -INT, or ctrl+c before the terminal is in raw mode) quits like
        `q` at any moment of startup, never with a traceback from the middle of it."""
        previous = signal.signal(signal.SIGINT, self._sigint)
        try:
            return super().run(*args, **kwargs)
        finally:
            signal.signal(signal.SIGINT, previous)

    def _sigint(self, signum, frame) -> None:
        self._interrupted = True
        loop = getattr(self, "_loop", None)
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self.post_message, Interrupted())

    def on_terminal_gone(self) -> None:
        """Called by the terminal driver from its threads: post, never act, here."""
        self.post_message(HangUp())

    def background(self, fn) -> None:
        if not self._closed:
            self._io.submit(fn)

    def keys_of(self, binding_id: str, default: str) -> set[str]:
        """The keys bound to a binding id, after the user's [keys] remapping."""
        return {k.strip() for k in self._keymap.get(binding_id, default).split(",")}

    @property
    def user(self) -> str:
        return self.session.user

    def on_mount(self) -> None:
        for t in THEMES.values():
            self.register_theme(t)
        self.theme = THEMES[self.theme_choice].name
        self.set_keymap(self._keymap_overrides)
        if self._handle_hangup:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.hang_up)
        if self._interrupted:  # SIGINT arrived while the app was starting
            self.post_message(Interrupted())
        from .screens.home import HomeScreen

        self.push_screen(HomeScreen())
        if self.start_mode and self.start_mode != "home":
            self.open_mode(self.start_mode)
        # What startup built (catalog lists, label state, modules) lives as long as the
        # app: out of the collector's sight, full collections stop scanning it per key.
        self.call_after_refresh(gc.freeze)

    def open_mode(self, mode_id: str) -> None:
        mode = get_mode(mode_id)
        if mode.role and not self.project.has_role(self.user, mode.role):
            self.notify(f"{mode.title} needs the {mode.role} role", severity="error")
            return
        self.push_screen(mode.load()())

    # -- focus changes must not repaint the picture (a sixel re-send per focus change) ----
    def on_app_blur(self, event) -> None:
        event.prevent_default()

    def on_app_focus(self, event) -> None:
        event.prevent_default()

    def on_paste(self, event: events.Paste) -> None:
        """A paste no text box took. Pasted text is not typed keys: labeling dozens of
        images from a stray clipboard would be silent damage, so it labels nothing."""
        say = getattr(self.screen, "say", None)
        if callable(say):
            say(f"paste ignored ({len(event.text)} characters): labels come from typed keys")

    # -- command palette (ctrl+p): Textual's commands, the modes, the screen's keys ------
    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for mode in MODES:
            yield SystemCommand(
                f"Open {mode.title}", mode.description, lambda m=mode.id: self.open_mode(m)
            )
        for node in (screen, self):
            for key, binding in node._bindings:
                if binding.description and binding.id and not binding.id.startswith("app."):
                    yield SystemCommand(
                        binding.description,
                        f"{key}  ({binding.id})",
                        lambda n=node, a=binding.action: n.run_action(a),
                    )

    # -- actions ----------------------------------------------------------------------
    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_home(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()

    async def action_quit(self) -> None:
        """Quit at once: every label is already on disk; only the position is saved."""
        self.close_session()
        self.exit()

    def hang_up(self) -> None:
        """SIGHUP (dropped SSH, closed terminal): close the session, then leave. Runs
        as a signal callback outside the app's message context, so it only posts."""
        self.post_message(HangUp())

    def on_hang_up(self, message: "HangUp") -> None:
        self.close_session()
        self.exit(return_code=129)

    def on_interrupted(self, message: "Interrupted") -> None:
        self.close_session()
        self.exit(return_code=130)

    def close_session(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._io.shutdown(wait=True)
            self.labeler.save_position()
        finally:
            self.session.close()

    def on_unmount(self) -> None:
        self.close_session()
        # Only now: until the app is gone a screen may still ask for a frame (a resize
        # or a queued key after quit), and a closed pool would raise in its handler.
        self.frames.close()


def _default_task(project: Project) -> str:
    return next((t for t in project.taxonomy.tasks if mode_for_task(t)), "classification")


def build_app(
    project: Project,
    user: str,
    graphics: str = "halfcell",
    theme: str = "dark",
    task: str | None = None,
    queue: str | None = None,
    start: str | None = None,
    user_keys: Path | None = None,
    handle_hangup: bool = False,
    cell_px: tuple[int, int] | None = None,
) -> QclabelApp:
    """The app factory used by the CLI and the tests.

    `graphics` must be concrete here (`graphics.prepare` resolves `auto` before the
    terminal is handed to Textual). Opens the user's labeling session (SessionLocked if
    another one is open); the app closes it on exit.
    """
    if graphics not in gfx.GRAPHICS or graphics == "auto":
        raise ValueError(f"graphics must be resolved before build_app, not {graphics!r}")
    if theme not in THEMES:
        from ..errors import ConfigError

        raise ConfigError("--theme", "theme", theme, f"expected one of {list(THEMES)}")
    if queue is not None:
        parse_queue(queue, QUEUES)  # ValueError naming the bad term
    if task is not None and not project.taxonomy.has_task(task):
        from ..errors import ConfigError

        raise ConfigError(
            project.config_path,
            "taxonomy.tasks",
            task,
            f"this project's tasks are {list(project.taxonomy.tasks)}",
        )
    keymap = merged_keymap(project.keys, project.config_path, user_keys)
    session = project.store.open_session(user)
    try:
        mode = mode_for_task(task or _default_task(project))
        return QclabelApp(
            project,
            session,
            graphics,
            cell_px or gfx.cell_pixels(graphics),
            theme=theme,
            task=task,
            queue=queue,
            keymap=keymap,
            start=start or (mode.id if mode else None),
            handle_hangup=handle_hangup,
        )
    except BaseException:
        session.close()
        raise


__all__ = ["QclabelApp", "build_app", "MODES"]
