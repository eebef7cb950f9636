from __future__ import annotations

import multiprocessing
import random
import re
import time

from mask.kit.ids import new_click_id, new_click_ids, new_id

ID = re.compile(r"[a-z]+_[0-9A-Za-z]{22}")


def _ids_in_child(queue: multiprocessing.Queue[list[str]]) -> None:
    # The random part's stream too: two children forked from one parent must not share it.
    queue.put([str(random.getrandbits(80)), *(new_click_id() for _ in range(1000))])


def test_click_ids_look_like_other_ids_and_sort_by_time() -> None:
    first = new_click_id()
    time.sleep(0.002)
    second = new_id("clk")
    time.sleep(0.002)
    third = new_click_id()
    assert all(ID.fullmatch(value) for value in (first, second, third))
    assert first.startswith("clk_") and first < second < third


def test_click_ids_are_unique_within_and_across_forked_processes() -> None:
    ours = [new_click_id() for _ in range(100_000)]
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[list[str]] = context.Queue()
    children = [context.Process(target=_ids_in_child, args=(queue,)) for _ in range(2)]
    for child in children:
        child.start()
    answers = [queue.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert answers[0][0] != answers[1][0]
    theirs = [value for answer in answers for value in answer[1:]]
    assert len(set(ours)) == len(ours)
    assert len(set(ours) | set(theirs)) == len(ours) + len(theirs)  # a forked child does not repeat its parent


def test_batch_click_ids_are_unique_ordered_by_batch_and_shaped_like_the_others() -> None:
    first = new_click_ids(3)
    time.sleep(0.002)
    second = new_click_ids(70_000)
    assert all(ID.fullmatch(value) and value.startswith("clk_") for value in first + second)
    assert len(set(first + second)) == len(first) + len(second)
    assert max(first) < min(second)  # a later batch sorts after an earlier one
    assert new_click_ids(0) == []
