"""Work on hostile input in a child process, under a time, memory and recursion budget. Pure Python, no Django.

Python-Markdown and Pillow can take minutes on a few kilobytes built for it, inside C code or deep recursion that no
exception or signal interrupts in-process. So every render of a student's text and every decode of an image runs
here: in a worker process of its own (a fresh interpreter), which is killed when its time runs out. A worker that
raised, timed out or crashed is never reused, so nothing it held (a half-reset Markdown parser, say) reaches the
next call; the parent, and every other group's work, goes on.

>>> run(len, "four")
4
>>> run(_spin, 0.2, seconds=0.1)
Traceback (most recent call last):
  ...
reports_app.engine.bounded.OverBudget: took longer than 0.1 s
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Budget:
    """What one call may use: wall-clock seconds, bytes of address space (0: unbounded), Python stack frames."""

    seconds: float = 5.0
    memory: int = 2 * 1024**3
    recursion: int = 1000


class OverBudget(Exception):
    """The call ran out of time or memory, or its process died; str() says which, for people."""


class Failed(Exception):
    """The call raised: `kind` is the exception's class name (e.g. "RecursionError"), str() its message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


_default = Budget()
_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding reports_app, for the workers' imports
_lock = threading.Lock()
_idle: list[_Worker] = []
_owner = os.getpid()
MAX_IDLE = max(2, os.cpu_count() or 2)  # idle workers kept per process (one per core is enough)


def configure(budget: Budget) -> None:
    """The budget of calls that name none (the site sets it from settings at start-up)."""
    global _default
    _default = budget


def run(
    func: Callable[..., T],
    *args: Any,
    seconds: float | None = None,
    budget: Budget | None = None,
    expected: tuple[type[Exception], ...] = (),
) -> T:
    """`func(*args)` in a worker process: its result, or OverBudget / Failed.

    `func` must be a module-level function; its arguments and result travel by pickle. An exception of an `expected`
    type (one of ours, raised on purpose: "this image has too many scans") is raised here as it was raised there, and
    the worker stays in use; any other one becomes Failed, and its worker is never used again.
    """
    budget = budget or _default
    if seconds is not None:
        budget = Budget(seconds, budget.memory, budget.recursion)
    worker = _take(budget)
    try:
        result = worker.call(func, args, budget.seconds, expected)
    except expected:
        _give_back(worker)
        raise
    except BaseException:
        worker.kill()
        raise
    _give_back(worker)
    return result


class _Worker:
    """One worker process: a fresh interpreter (no state shared with ours) talking pickles over two pipes."""

    def __init__(self, budget: Budget) -> None:
        self.budget = (budget.memory, budget.recursion)
        ours_r, theirs_w = os.pipe()
        theirs_r, ours_w = os.pipe()
        serve = f"_serve({theirs_r}, {theirs_w}, {budget.memory}, {budget.recursion})"
        code = f"from reports_app.engine.bounded import _serve; {serve}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=(theirs_r, theirs_w), env=env, stdin=subprocess.DEVNULL
        )
        os.close(theirs_r)
        os.close(theirs_w)
        self.reader, self.writer = Connection(ours_r, writable=False), Connection(ours_w, readable=False)

    def call(self, func: Callable, args: tuple, seconds: float, expected: tuple[type[Exception], ...]) -> Any:
        deadline = time.monotonic() + seconds
        try:
            self.writer.send((func, args, expected))
            if not self.reader.poll(max(0.0, deadline - time.monotonic())):
                raise OverBudget(f"took longer than {seconds:g} s")
            status, value = self.reader.recv()
        except (EOFError, OSError):
            code = self.process.wait()
            raise OverBudget(f"ran out of memory or crashed (exit {code})") from None
        if status == "ok":
            return value
        if status == "expected":
            raise value
        raise Failed(*value)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.reader.close()
        self.writer.close()


def _take(budget: Budget) -> _Worker:
    global _owner
    with _lock:
        if os.getpid() != _owner:  # forked (e.g. a preloading gunicorn): the parent's workers are not ours
            _idle.clear()
            _owner = os.getpid()
        for i, worker in enumerate(_idle):
            if worker.budget == (budget.memory, budget.recursion) and worker.alive():
                return _idle.pop(i)
    return _Worker(budget)


def _give_back(worker: _Worker) -> None:
    with _lock:
        if len(_idle) < MAX_IDLE:
            _idle.append(worker)
            return
    worker.kill()


def _serve(read_fd: int, write_fd: int, memory: int, recursion: int) -> None:
    """The worker's loop: one call at a time; exits after a call that raised anything but an expected exception, so
    no state outlives a failure."""
    import resource

    reader, writer = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    sys.setrecursionlimit(recursion)
    while True:
        try:
            func, args, expected = reader.recv()
        except EOFError:
            return
        try:
            result = func(*args)
        except expected as error:
            writer.send(("expected", error))
            continue
        except BaseException as error:  # everything else goes back to the caller as Failed
            writer.send(("error", (type(error).__name__, str(error)[:500])))
            return
        writer.send(("ok", result))


def _spin(seconds: float) -> None:
    """Busy for `seconds` (for the doctest above)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
