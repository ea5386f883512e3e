"""Background jobs of the app (an export, an augmentation): the state a worker thread
and its dialog share, and the one job of each kind an app runs at a time."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Generic, TypeVar


@dataclass(kw_only=True)
class BackgroundJob:
    done: int = 0
    total: int = 0
    state: str = "running"          # running | done | cancelled | failed
    message: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total


J = TypeVar("J", bound=BackgroundJob)


class JobSlot(Generic[J]):
    """The current job of one kind per app (weakly held: a closed app drops it)."""

    def __init__(self) -> None:
        self._jobs: weakref.WeakKeyDictionary[object, J] = weakref.WeakKeyDictionary()

    def current(self, app: object) -> J | None:
        return self._jobs.get(app)

    def start(self, app: object, job: J) -> None:
        self._jobs[app] = job

    def clear(self, app: object) -> None:
        self._jobs.pop(app, None)
