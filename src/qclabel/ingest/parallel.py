"""Run ingest on an existing Dask distributed cluster (optional extra `qclabel[dask]`).

The cluster's executor is an ordinary `concurrent.futures.Executor`, so the same
`ingest_paths` runs on it unchanged. Every worker must see the source files and the
project folder under the same paths (a shared file system), because workers read the
sources and write the canonical files themselves.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..errors import QclabelError


class SchedulerError(QclabelError):
    """The Dask scheduler cannot be used."""


@contextmanager
def dask_executor(address: str, timeout: float = 10.0) -> Iterator[object]:
    """A concurrent.futures executor on the cluster at `address`, closed afterwards."""
    try:
        from distributed import Client
    except ImportError:
        raise SchedulerError(
            "--scheduler needs Dask distributed: install qclabel[dask] "
            "(pip install 'qclabel[dask]')"
        ) from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(
            f"cannot connect to the Dask scheduler at {address!r}: {exc}"
        ) from None
    try:
        yield client.get_executor()
    finally:
        client.close()
