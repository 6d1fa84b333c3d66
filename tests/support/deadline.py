"""A call that must return in time: a reader that waits on a FIFO fails its test instead of hanging the suite."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def returns_within(call: Callable[[], T], *, seconds: float = 30, what: str = "the call") -> T:
    """``call()``'s result, run in a daemon thread; the test fails when it has not returned after ``seconds`` (the
    blocked thread is left behind: a daemon, it never keeps the test process alive)."""
    outcome: list[T] = []
    raised: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # re-raised in the test's thread
            raised.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    if worker.is_alive():
        pytest.fail(f"{what} blocked: no answer after {seconds:g} seconds")
    if raised:
        raise raised[0]
    return outcome[0]
