"""Keys apply in the order they were typed, each to the state the previous one left.

Why this exists: Textual hands every key from the App's queue to the focused widget's
(or the screen's) own queue. A data key (a taxonomy hotkey, handled by the screen's
`on_key`) acts there, while a bound key (`right` = next image) finds no handler, bubbles
back to the App's queue and only then runs its binding. Keys that arrive in one read
(a burst over SSH, a fast typist, tmux `send-keys Right 4 2`) therefore overtake each
other: `4` labels the image `right` was meant to leave.

The rule here, for every screen at once: the App dispatches each key itself, inline and
to completion, before it looks at the next one, in the order Textual would have used:
1. priority bindings (App down to the focused widget),
2. the key handlers (`on_key`) from the focused widget up to its screen; the screen's
   handler is where taxonomy hotkeys live,
3. the other bindings (focused widget up to the App, stopping at a modal screen),
4. the App's own `key_*` methods.
Each node's handler runs in that node's context, so what it does (push a dialog, post a
message) looks exactly as if Textual had delivered the key.

Some keys start something that finishes later: a screen is pushed or popped (its mount,
its focus, a dialog's result callback), a text box submits (a message), a click is
handled by the screen. Keys that arrive meanwhile are held, in order, and dispatched
once it has finished, so `g 3 enter n` jumps to image 3 and then moves on, and a class
key typed while a mode opens goes to that mode. A hold never outlasts `HOLD_LIMIT`
seconds (keys then flow again rather than the app seeming frozen).
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events
from textual._dispatch_key import dispatch_key
from textual.app import App
from textual.message_pump import MessagePump

HOLD_LIMIT = 2.0


class OrderedKeys(App):
    """Mixin for the app class (before `App` in the bases)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._held_keys: deque[events.Key] = deque()
        self._holds = 0
        self._hold_tasks: set[asyncio.Task] = set()

    # -- arrival ----------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._held_keys.append(event)
            if not self._holds:
                await self._drain()
            return
        await super().on_event(event)
        if isinstance(event, (events.MouseDown, events.MouseUp)) and not event.is_forwarded:
            self.hold_keys(self.screen)  # the screen handles the click in its own queue

    async def _drain(self) -> None:
        while self._held_keys and not self._holds:
            await self._dispatch(self._held_keys.popleft())

    # -- one key, to completion ------------------------------------------------------------
    async def _dispatch(self, event: events.Key) -> None:
        self.app_focus = True
        screen = self.screen
        if screen.maximized is not None and event.key == "escape" and self.escape_to_minimize:
            screen.minimize()
            return
        if self.focused is not None:
            screen._clear_tooltip()
        if await self._check_bindings(event.key, priority=True):
            return
        event._set_forwarded()
        event.bubble = False  # this loop walks the chain; nothing may bubble a second time
        focused = self.focused
        chain = list(focused.ancestors_with_self) if focused is not None else [screen]
        for node in chain:
            if node is self:
                break
            with node._context():
                await node._on_message(event)
            if event._stop_propagation:
                return
        handled = await self._check_bindings(event.key)
        if focused is not None:
            self.hold_keys(focused)  # a text box answers enter with a message: let it land
        if not handled:
            await dispatch_key(self, event)

    # -- holding -----------------------------------------------------------------------------
    def hold_keys(self, pump: MessagePump) -> None:
        """Hold the next keys until `pump` (and then the screen on top, and the App) have
        handled every message queued so far."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not running yet: no key can arrive before the loop does
        self._holds += 1
        task = loop.create_task(self._release_after(pump))
        self._hold_tasks.add(task)
        task.add_done_callback(self._hold_tasks.discard)

    async def _release_after(self, pump: MessagePump) -> None:
        try:
            await asyncio.wait_for(self._settled(pump), HOLD_LIMIT)
        except (asyncio.TimeoutError, Exception):
            pass
        finally:
            if not self.call_later(self._release):
                self._holds -= 1

    async def _settled(self, pump: MessagePump) -> None:
        await _barrier(pump)
        screen = self.screen
        await screen._mounted_event.wait()
        await _barrier(screen)

    async def _release(self) -> None:
        self._holds -= 1
        await self._drain()

    # -- screen changes hold the keys until the new screen is ready ----------------------------
    def push_screen(self, *args, **kwargs):
        result = super().push_screen(*args, **kwargs)
        self.hold_keys(self)
        return result

    def pop_screen(self):
        result = super().pop_screen()
        self.hold_keys(self)
        return result

    def switch_screen(self, screen):
        result = super().switch_screen(screen)
        self.hold_keys(self)
        return result


async def _barrier(pump: MessagePump) -> None:
    """Return once `pump` has handled every message queued before this call."""
    done = asyncio.get_running_loop().create_future()
    if pump.call_later(lambda: done.done() or done.set_result(None)):
        await done
