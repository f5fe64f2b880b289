"""The staging writer thread: order kept, failures raised to the builder, one batch kept."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from licensewatch.sync.batch_writer import BatchWriter

Rows = list[tuple[Any, ...]]


def test_batches_are_written_in_order_by_one_other_thread() -> None:
    written: list[tuple[int, str]] = []

    def write(users: Rows, licences: Rows) -> None:
        written.append((users[0][0], threading.current_thread().name))

    with BatchWriter(write, hold_below=2) as writer:
        for n in range(5):
            writer.submit([(n,)], [])
        writer.submit([], [])  # nothing to write: ignored
        assert writer.drain(keep_single=True) is None
    assert [n for n, _ in written] == [0, 1, 2, 3, 4]
    assert {name for _, name in written} == {"staging-writer"}


def test_a_single_batch_is_handed_back_unwritten_or_written_here() -> None:
    written: list[Rows] = []
    with BatchWriter(lambda users, licences: written.append(users), hold_below=2) as writer:
        writer.submit([(1,)], [(1, "s")])
        assert writer.drain(keep_single=True) == ([(1,)], [(1, "s")])
    assert written == []
    with BatchWriter(lambda users, licences: written.append(users), hold_below=2) as writer:
        writer.submit([(2,)], [])
        assert writer.drain() is None
    assert written == [[(2,)]]


def test_a_write_failure_reaches_the_submitter_and_stops_the_writes() -> None:
    written: list[int] = []

    def write(users: Rows, licences: Rows) -> None:
        if users[0][0] == 1:
            raise RuntimeError("disk full")
        written.append(users[0][0])

    def run() -> None:
        with BatchWriter(write, hold_below=2) as writer:
            for n in range(50):
                writer.submit([(n,)], [])
            writer.drain()

    with pytest.raises(RuntimeError, match="disk full"):
        run()
    assert written == [0]


def test_leaving_early_stops_the_thread() -> None:
    started = threading.Event()

    def write(users: Rows, licences: Rows) -> None:
        started.set()

    def run() -> None:
        with BatchWriter(write, hold_below=2) as writer:
            writer.submit([(0,)], [])
            writer.submit([(1,)], [])
            started.wait(5)
            raise KeyError("the read failed")

    with pytest.raises(KeyError):
        run()
    assert not any(t.name == "staging-writer" and t.is_alive() for t in threading.enumerate())


def test_inline_writes_in_the_caller_and_keeps_only_a_single_batch() -> None:
    written: list[tuple[int, str]] = []

    def write(users: Rows, licences: Rows) -> None:
        written.append((users[0][0], threading.current_thread().name))

    with BatchWriter(write, threaded=False, hold_below=2) as writer:
        for n in range(3):
            writer.submit([(n,)], [])
        assert writer.drain(keep_single=True) is None
    me = threading.current_thread().name
    assert written == [(0, me), (1, me), (2, me)]
    with BatchWriter(write, threaded=False, hold_below=2) as writer:
        writer.submit([(9,)], [])
        assert writer.drain(keep_single=True) == ([(9,)], [])


def test_a_full_first_batch_is_never_held() -> None:
    written: list[Rows] = []
    with BatchWriter(lambda users, licences: written.append(users), hold_below=2) as writer:
        writer.submit([(1,), (2,)], [])
        assert writer.drain(keep_single=True) is None
    assert written == [[(1,), (2,)]]
