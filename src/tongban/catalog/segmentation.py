"""Words of a text for the search index (jieba), here or in worker processes.

This module imports nothing of Django, so that worker processes segmenting a large import's
entries start from it alone (``Segmenter``).

:func:`segment` is jieba's search-mode segmentation with the HMM off (see ``search``), computed
run by run: jieba segments each run of word characters (its ``re_han_default`` blocks) on its
own, so the text is cut into those runs and each run's words are remembered — a catalog repeats
its department names, places and conditions thousands of times, and the words are the same as
jieba gives for the whole text.

:class:`Segmenter` segments batches of (name, body) texts: in the calling process for a few, in
a pool of worker processes for many (a workbook of thousands of items), the batches handed out
in order and their results taken back in the same order, so the index is the same either way.
The workers are forked from the caller after jieba's dictionary is loaded, so they start at
once with it (and with the words remembered so far); they run nothing but jieba and this module
(CPython re-initialises the locks of logging and imports in a forked child). Not the spawn or
fork-server starts: those import the caller's ``__main__`` again in every worker.

Forking is only safe in a process that does nothing else meanwhile: in a threaded web worker
another thread may hold a lock (a logger's, a driver's, jieba's own) at the moment of the fork,
and the child would wait for it forever. So a Segmenter uses one process — this one — unless
its caller runs inside :func:`worker_processes` (the ``import_catalog`` and ``reindex_search``
commands do; a page never does). The choice is a context variable: each thread of a web worker
has its own, unset.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import jieba

jieba.setLogLevel(60)  # jieba logs its dictionary loading at INFO on every process start

_BLOCK_RE = jieba.re_han_default  # what jieba.cut splits a text into before segmenting

# Below this many entries a pool costs more than it saves (starting the workers, sending texts).
PARALLEL_MIN = 2_000


def segment(text: str) -> list[str]:
    """Search-mode words of ``text``; single characters of punctuation and space are dropped."""
    words: list[str] = []
    for block in _BLOCK_RE.split(text or ""):
        if not block:
            continue
        words.extend(_segment_block(block) if _BLOCK_RE.fullmatch(block) else _segment_plain(block))
    return words


@functools.lru_cache(maxsize=200_000)
def _segment_block(block: str) -> tuple[str, ...]:
    return tuple(_segment_plain(block))


def _segment_plain(text: str) -> list[str]:
    return [t for t in jieba.cut_for_search(text, HMM=False) if t.strip() and (len(t) > 1 or t.isalnum())]


def segment_entries(texts: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(name, body) → (name words, body words), each joined by single spaces."""
    return [(" ".join(segment(name)), " ".join(segment(body))) for name, body in texts]


def workers_available() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Worker processes a Segmenter may fork here (1: none); see the module's docstring.
_WORKERS: ContextVar[int] = ContextVar("catalog_segmentation_workers", default=1)


@contextmanager
def worker_processes() -> Iterator[None]:
    """Within this block a large segmentation forks one worker process per core.

    Only for a process that runs nothing else at the same time — a management command, a task
    runner's job — never around code serving web requests in threads.
    """
    token = _WORKERS.set(workers_available())
    try:
        yield
    finally:
        _WORKERS.reset(token)


def processes_allowed() -> bool:
    """Whether the caller is inside :func:`worker_processes` (and the machine has two cores)."""
    return _WORKERS.get() > 1


class Segmenter:
    """``with Segmenter(expected=n) as s: s.submit(batch, then)``: ``then(results)`` is called
    for each batch, in the order submitted (at the latest when the block ends)."""

    def __init__(self, *, expected: int, workers: int | None = None) -> None:
        workers = _WORKERS.get() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1 and expected >= PARALLEL_MIN:
            jieba.initialize()  # before forking: the workers inherit the loaded dictionary
            self._pool = ProcessPoolExecutor(max_workers=workers,
                                             mp_context=multiprocessing.get_context("fork"))
        self._pending: deque[tuple[Future[list[tuple[str, str]]], Callable[[Any], None]]] = deque()
        # Batches in flight: enough to keep every worker busy while results are written.
        self._window = 2 * workers

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def submit(self, texts: Sequence[tuple[str, str]],
               then: Callable[[list[tuple[str, str]]], None]) -> None:
        if self._pool is None:
            then(segment_entries(texts))
            return
        self._pending.append((self._pool.submit(segment_entries, list(texts)), then))
        while len(self._pending) >= self._window:
            self._take()

    def _take(self) -> None:
        future, then = self._pending.popleft()
        then(future.result())

    def finish(self) -> None:
        while self._pending:
            self._take()

    def __enter__(self) -> Segmenter:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        try:
            if kind is None:
                self.finish()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
