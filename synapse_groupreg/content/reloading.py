"""Keeping a compiled list current in every process: the one mechanism the
keyword lists (C4), the media lists (C7) and the link lists (C8) share.

Each process holds one immutable snapshot, read by the checks with one
attribute read. A change goes: admin API -> one transaction that also adds
one to the family's version -> the changing process reloads at once; every
other process polls the version (one single-row read) and reloads when it
moved. A reload loads the lists, builds the snapshot in Synapse's thread
pool and swaps it in by one assignment: a check sees the old snapshot or
the new one, never a mix.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

logger = logging.getLogger(__name__)

#: `ModuleApi.defer_to_thread`: runs a function in Synapse's thread pool.
ToThread = Callable[..., Awaitable[Any]]


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


S = TypeVar("S", bound=Versioned)
L = TypeVar("L")


class Reloader(Generic[S, L]):
    """The snapshot of one family of lists, and its reloads.

    Args:
        name: for the log ("keyword lists").
        version: reads the family's version (polled).
        load: reads (version, lists) in one transaction.
        build: compiles the lists into a snapshot; pure and CPU-bound, run
            in a thread.
        initial: the snapshot loaded at start-up.
    """

    def __init__(
        self,
        name: str,
        version: Callable[[], Awaitable[int]],
        load: Callable[[], Awaitable[tuple[int, L]]],
        build: Callable[[int, L], S],
        to_thread: ToThread,
        initial: S,
    ) -> None:
        self._name = name
        self._version = version
        self._load = load
        self._build = build
        self._to_thread = to_thread
        self.snapshot = initial
        self._reloading = False
        self._again = False

    async def poll(self) -> None:
        """Reload if the version moved (the looping call)."""
        if await self._version() != self.snapshot.version:
            await self.reload()

    async def reload(self) -> None:
        """Load, build off the reactor thread, swap.

        A reload asked for while one runs makes that one go round again, so
        the last change is never lost and two builds never run at once.
        """
        if self._reloading:
            self._again = True
            return
        self._reloading = True
        try:
            while True:
                self._again = False
                version, lists = await self._load()
                if version != self.snapshot.version:
                    built: S = await self._to_thread(self._build, version, lists)
                    # A slower reload may finish after a newer one: keep the newest.
                    if built.version > self.snapshot.version:
                        self.snapshot = built
                        logger.info("%s reloaded: %r", self._name, built)
                if not self._again:
                    return
        finally:
            self._reloading = False


class Reloaded(Generic[S]):
    """What a family of lists shows of its reloader: the snapshot the checks
    read, and the poll and reload its jobs and writes call. A family sets
    `_reloader` in its constructor."""

    _reloader: Reloader[S, Any]

    @property
    def snapshot(self) -> S:
        """What the checks read (one attribute behind the reloader)."""
        return self._reloader.snapshot

    async def poll(self) -> None:
        """Rebuild if the family's version moved (the looping call)."""
        await self._reloader.poll()

    async def reload(self) -> None:
        """Load the lists, build off the reactor thread, swap."""
        await self._reloader.reload()
