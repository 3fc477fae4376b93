"""Half of a large batch read or evaluated in a forked copy of this process, on the second core.

The fork inherits everything already made (the validator, the compiled backend with its
durable_rules rulesets, copied with the process's memory), so nothing is pickled on the way in;
what the copy made comes back through a pipe.
Whatever goes wrong in the copy (an exception, a warning such as the durable engine falling back,
a pipe that breaks) is not reported from there: this process does that half itself, so every
warning and every refusal is raised here, in row order, exactly as in a serial run."""
from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Optional, Union

from lanhmanh.engine.evaluation.outcome import EngineRefused, Outcome

# Below this many units one process does it all: a fork and the pipe cost more than they save.
PARALLEL_FROM = 2000


def fork_context() -> Optional[Any]:
    """multiprocessing's fork start method where it is safe to use (not on Windows or macOS)."""
    if sys.platform in ("win32", "darwin") or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


class Copy:
    """`work()` run in a forked copy of this process; `result()` is what it returned (sent back
    through a pipe, pickled), or None when the copy failed, warned, or sent what cannot be read."""

    def __init__(self, context: Any, work: Callable[[], Any]):
        self.reader, writer = context.Pipe(duplex=False)
        self.process = started(context.Process(target=_run, args=(work, writer), daemon=True))
        writer.close()

    def result(self) -> Optional[Any]:
        try:
            sent = self.reader.recv()
        except Exception:  # noqa: BLE001 - the copy died (EOFError) or sent what cannot be unpickled
            sent = None
        self.process.join()
        return sent[0] if sent is not None and self.process.exitcode == 0 else None

    def close(self) -> None:
        self.reader.close()
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def __enter__(self) -> "Copy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def started(process: Any) -> Any:
    """process.start(), without the DeprecationWarning Python 3.12+ gives for forking while a
    thread runs (the progress line's timer, on a terminal): a copy made here runs only its own
    work and ends with os._exit, never touching a lock that thread may hold (the progress line,
    stderr)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".*use of fork\(\) may lead to deadlocks", DeprecationWarning)
        process.start()
    return process


def _run(work: Callable[[], Any], writer: Any) -> None:
    """In the forked process: sends (what work returned,), or None when it raised or warned; then
    ends at once (os._exit), running no exit handler and flushing none of the streams it shares
    with this process (a progress line half-written by another thread at the fork, say)."""
    code = 1
    try:
        sent: Optional[tuple] = None
        try:
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")
                value = work()
            if not said:
                sent = (value,)
        except Exception:  # noqa: BLE001 - reported by doing the work again in the parent
            sent = None
        writer.send(sent)
        writer.close()
        code = 0
    finally:
        os._exit(code)


def copy_doing(n: int, work: Callable[[], Any]) -> Optional[Copy]:
    """A forked copy doing `work` when there are n >= PARALLEL_FROM items to share, two cores or
    more, and a system that forks; else None (this process does it all)."""
    context = fork_context()
    if n < PARALLEL_FROM or context is None or (os.cpu_count() or 1) < 2:
        return None
    return Copy(context, work)


def outcomes(backend: Any, units: Sequence[Any]) -> Iterator[Union[Outcome, EngineRefused]]:
    """The outcome of each unit in order, or the EngineRefused the backend raised for it; with
    enough units, the latter half evaluated by a forked copy while this process does the first."""
    half = len(units) // 2
    copy = copy_doing(len(units), lambda: [_plain(_one(backend, u.values)) for u in units[half:]])
    if copy is None:
        for u in units:
            yield _one(backend, u.values)
        return
    with copy:
        for u in units[:half]:
            yield _one(backend, u.values)
        theirs = copy.result()
        if theirs is None:
            for u in units[half:]:
                yield _one(backend, u.values)
        else:
            for o in theirs:
                yield o if isinstance(o, EngineRefused) else Outcome(*o)


def _one(backend: Any, values: dict) -> Union[Outcome, EngineRefused]:
    try:
        return backend.evaluate(values)
    except EngineRefused as e:
        return e


def _plain(o: Union[Outcome, EngineRefused]) -> Union[tuple, EngineRefused]:
    """An outcome as a tuple: three times quicker through the pipe than the dataclass."""
    return o if isinstance(o, EngineRefused) else (o.class_id, o.total, o.vetoes, o.outcomes)
