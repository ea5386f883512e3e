"""The terminal going away: the app notices and leaves cleanly instead of hanging.

When the pty is torn down (SSH dropped without SIGHUP reaching the app, a terminal
emulator killed, `tmux kill-server`), the terminal's input reports EOF or EIO and its
output raises EIO. Textual's Linux driver then turns the input error into a panic and
its writer thread dies on the first failed write; the next writes block on the writer's
full queue and the process hangs forever, holding its session lock and ~125 MB.

`TerminalDriver` (a LinuxDriver) instead:
- watches the input for hang-up (POLLHUP/POLLERR: EOF or EIO) in a small thread that
  never reads, and treats an input error as the same hang-up, not a panic;
- drops output once the terminal is gone (and on the first write that fails), so
  nothing can block on it;
- tells the app (`on_terminal_gone`, thread-safe), which closes the session (every
  label is already on disk; the position is saved) and exits with code 129.
"""

from __future__ import annotations

import select
import threading
from typing import IO, Any, Callable

from textual.drivers.linux_driver import LinuxDriver

POLL_MS = 500


class _Output:
    """The terminal's output file, silent once the terminal is gone."""

    def __init__(self, file: IO[str], gone: Callable[[], None], is_gone: Callable[[], bool]):
        self._file, self._gone, self._is_gone = file, gone, is_gone

    def write(self, text: str) -> int:
        if self._is_gone():
            return len(text)
        try:
            return self._file.write(text)
        except (OSError, ValueError):  # EIO, or the file was closed under us
            self._gone()
            return len(text)

    def flush(self) -> None:
        if not self._is_gone():
            try:
                self._file.flush()
            except (OSError, ValueError):
                self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


class TerminalDriver(LinuxDriver):
    def __init__(self, app, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self._gone = threading.Event()
        self._file = _Output(self._file, self.terminal_gone, self._gone.is_set)

    def start_application_mode(self) -> None:
        super().start_application_mode()
        if self.input_tty:
            threading.Thread(
                target=self._watch_input, name="qclabel-tty-watch", daemon=True
            ).start()

    def _watch_input(self) -> None:
        poller = select.poll()
        poller.register(self.fileno, 0)  # hang-up and errors are always reported
        while not self._gone.is_set() and not self.exit_event.is_set():
            try:
                events = poller.poll(POLL_MS)
            except OSError:
                events = [(self.fileno, select.POLLERR)]
            if any(
                mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in events
            ):
                self.terminal_gone()

    def _run_input_thread(self) -> None:
        try:
            self.run_input_thread()
        except OSError:  # EIO: the terminal hung up under the reader
            self.terminal_gone()
        except BaseException:  # anything else is a bug: Textual's own handling
            import rich.traceback

            self._app.call_later(self._app.panic, rich.traceback.Traceback())

    def terminal_gone(self) -> None:
        if self._gone.is_set():
            return
        self._gone.set()
        self.exit_event.set()  # the input thread stops reading a dead terminal
        notify = getattr(self._app, "on_terminal_gone", None)
        if notify is not None:
            notify()

    def write(self, data: str) -> None:
        if not self._gone.is_set():
            super().write(data)

    def flush(self) -> None:
        if not self._gone.is_set():
            super().flush()
