"""A progress line on stderr for long runs: phases (reading, scoring, writing), each with a count
when it has one, drawn only when the stream is a terminal and only once the run has lasted
`delay` seconds (a quick run prints nothing). A background timer draws the first line (so a phase
with no count, such as reading, shows up too, with its elapsed time), and redraws it every
`interval` seconds; `step()` redraws at most that often as well.

    bar = Progress(sys.stderr)
    with bar.phase("reading"): ...
    for u in bar.iterate("scoring", units): ...
    bar.close()

Drawn as "scoring  [##########----------]  5000/10000  00:03" with a carriage return, the line
cleared at the end. Not click.progressbar: it has no delayed first draw and no count-less phase.
"""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import IO, Iterable, Iterator, Optional, TypeVar

T = TypeVar("T")
WIDTH = 24


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    def __init__(self, stream: Optional[IO[str]], delay: float = 1.5, interval: float = 0.25,
                 clock=time.monotonic):
        self.stream = stream
        self.enabled = stream is not None and is_terminal(stream)
        self.delay, self.interval, self.clock = delay, interval, clock
        self.start = clock()
        self.label: Optional[str] = None
        self.done = 0
        self.total: Optional[int] = None
        self.drawn = False  # a line is on the screen
        self.last_draw = 0.0
        self.lock = threading.Lock()
        self.timer: Optional[threading.Thread] = None
        self.stopped = threading.Event()
        if self.enabled:
            self.timer = threading.Thread(target=self._tick, name="lanhmanh-progress", daemon=True)
            self.timer.start()

    # ---- phases ---------------------------------------------------------------------------------

    @contextmanager
    def phase(self, label: str, total: Optional[int] = None):
        """A phase of the run: `step()` inside it counts up to `total`."""
        with self.lock:
            self.label, self.done, self.total = label, 0, total
            self._maybe_draw(force=self.drawn)
        try:
            yield self
        finally:
            with self.lock:
                self.done = self.total if self.total is not None else self.done
                self._maybe_draw(force=self.drawn)

    def step(self, n: int = 1) -> None:
        with self.lock:
            self.done += n
            self._maybe_draw()

    def iterate(self, label: str, items: Iterable[T], total: Optional[int] = None) -> Iterator[T]:
        """The items, one step each, inside a phase."""
        if total is None and hasattr(items, "__len__"):
            total = len(items)  # type: ignore[arg-type]
        with self.phase(label, total):
            for it in items:
                yield it
                self.step()

    def close(self) -> None:
        """Stop the timer and clear the line (the summary printed next starts on a clean line)."""
        self.stopped.set()
        if self.timer is not None:
            self.timer.join()
        with self.lock:
            if self.drawn and self.stream is not None:
                self.stream.write("\r" + " " * self.width_used + "\r")
                self.stream.flush()
                self.drawn = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- drawing --------------------------------------------------------------------------------

    width_used = 0

    def line(self) -> str:
        """The text of the progress line for the current phase."""
        secs = int(self.clock() - self.start)
        elapsed = f"{secs // 60:02d}:{secs % 60:02d}"
        if self.total:
            filled = min(WIDTH, WIDTH * self.done // self.total)
            bar = "#" * filled + "-" * (WIDTH - filled)
            return f"{self.label}  [{bar}]  {self.done}/{self.total}  {elapsed}"
        return f"{self.label}  ...  {elapsed}"

    def _maybe_draw(self, force: bool = False) -> None:
        """Draw when enabled, past the delay, and not drawn within the interval (or forced)."""
        if not self.enabled or self.stream is None or self.label is None or self.stopped.is_set():
            return
        now = self.clock()
        if now - self.start < self.delay:
            return
        if not force and self.drawn and now - self.last_draw < self.interval:
            return
        text = self.line()
        pad = max(0, self.width_used - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self.width_used = max(self.width_used, len(text))
        self.drawn, self.last_draw = True, now

    def _tick(self) -> None:
        while not self.stopped.wait(self.interval):
            with self.lock:
                self._maybe_draw(force=True)


def for_stderr(delay: float = 1.5) -> Progress:
    """The progress line of a command: on stderr, silent when stderr is not a terminal."""
    return Progress(sys.stderr, delay=delay)
