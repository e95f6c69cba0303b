"""The worker pool: each call's result comes back to its item, per-worker state stays in
its worker, and an error in a worker is raised in the caller."""

from __future__ import annotations

from typing import Any

import pytest

from riskshare.engine import workers
from riskshare.engine.workers import Workers, worker_number

#: What the calls of one process have seen; each forked worker has its own copy.
SEEN: list[int] = []


def square(item: int) -> int:
    SEEN.append(item)
    return item * item


def fail_on_three(item: int) -> int:
    if item == 3:
        raise ValueError(f"item {item} is bad")
    return item


HANDLERS: dict[str, Any] = {
    "square": square,
    "seen": lambda _: sorted(SEEN),
    "forget": lambda _: SEEN.clear(),
    "who": lambda argument: (worker_number(), argument),
    "fail": fail_on_three,
    "unsendable": lambda _: lambda: None,
}


@pytest.fixture(autouse=True)
def fresh() -> None:
    SEEN.clear()


@pytest.mark.parametrize("count", [1, 2])
def test_map_hands_each_result_to_its_item(count: int) -> None:
    items = list(range(10))  # more than the workers hold in flight at once
    received: list[tuple[int, int]] = []
    with Workers(count, HANDLERS) as pool:
        pool.map("square", items, lambda item, result: received.append((item, result)))
    assert sorted(received) == [(i, i * i) for i in items]
    if count == 1:  # in the calling process, in the order given
        assert [item for item, _ in received] == items


def test_one_worker_runs_in_the_calling_process() -> None:
    with Workers(1, HANDLERS) as pool:
        assert pool.size == 1
        pool.map("square", [2, 3], lambda item, result: None)
        assert pool.each("seen", None) == [[2, 3]]
    assert SEEN == [2, 3]


@pytest.mark.skipif(not workers.can_fork(), reason="workers are forked")
def test_each_worker_keeps_its_own_state() -> None:
    items = list(range(12))
    with Workers(2, HANDLERS) as pool:
        assert pool.size == 2
        pool.map("square", items, lambda item, result: None)
        seen = pool.each("seen", None)
        assert len(seen) == 2
        assert sorted(seen[0] + seen[1]) == items  # every item ran once, in some worker
        pool.each("forget", None)
        assert pool.each("seen", None) == [[], []]
    assert SEEN == []  # nothing ran in the calling process


@pytest.mark.parametrize("count", [1, 2])
def test_each_answers_worker_by_worker(count: int) -> None:
    with Workers(count, HANDLERS) as pool:
        expected = [(w, "x") for w in range(pool.size)]
        assert pool.each("who", "x") == expected


@pytest.mark.parametrize("count", [1, 2])
def test_each_of_gives_worker_w_the_w_th_argument(count: int) -> None:
    with Workers(count, HANDLERS) as pool:
        arguments = ["first", "second"][: pool.size]
        assert pool.each_of("who", arguments) == list(enumerate(arguments))


@pytest.mark.parametrize("count", [1, 2])
def test_an_error_in_a_worker_is_raised_in_the_caller(count: int) -> None:
    received: list[int] = []
    with (
        pytest.raises(ValueError, match="item 3 is bad"),
        Workers(count, HANDLERS) as pool,
    ):
        pool.map("fail", list(range(6)), lambda item, result: received.append(result))
    assert 3 not in received


@pytest.mark.skipif(not workers.can_fork(), reason="workers are forked")
def test_workers_are_stopped_on_leaving() -> None:
    with Workers(2, HANDLERS) as pool:
        processes = list(pool._processes)
        assert all(p.is_alive() for p in processes)
    assert not any(p.is_alive() for p in processes)
    with pytest.raises(ValueError), Workers(2, HANDLERS) as pool:
        processes = list(pool._processes)
        pool.map("fail", [3], lambda item, result: None)
    assert not any(p.is_alive() for p in processes)


@pytest.mark.skipif(not workers.can_fork(), reason="workers are forked")
def test_an_answer_that_cannot_travel_back_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="cannot send back"), Workers(2, HANDLERS) as pool:
        pool.each("unsendable", None)
