from __future__ import annotations

import collections
import multiprocessing
import random
import re
import secrets
import time

from mask.kit.ids import ALPHABET, _base62, new_click_id, new_click_ids, new_id, new_ids, random_strings

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


def _one_digit_at_a_time(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def test_base62_two_digits_a_division_writes_what_one_digit_a_division_wrote() -> None:
    numbers = [0, 1, 61, 62, 3843, 3844, 62**21, 2**128 - 1]
    numbers += [secrets.randbits(bits) for bits in range(1, 129) for _ in range(20)]
    for number in numbers:
        assert _base62(number, 22) == _one_digit_at_a_time(number, 22), number


def test_ids_minted_in_a_batch_are_shaped_ordered_and_unique_like_single_ones() -> None:
    before = new_id("lnk")
    time.sleep(0.002)
    batch = new_ids("lnk", 5000)
    time.sleep(0.002)
    after = new_id("lnk")
    assert len(batch) == 5000 and all(ID.fullmatch(value) and value.startswith("lnk_") for value in batch)
    assert len(set(batch)) == 5000
    assert before < min(batch) and max(batch) < after
    assert new_ids("lnk", 0) == []


def test_random_strings_are_uniform_over_the_alphabet() -> None:
    strings = random_strings(100_000, 7)
    assert len(strings) == 100_000 and all(len(value) == 7 and set(value) <= set(ALPHABET) for value in strings)
    counts = collections.Counter("".join(strings))
    # 700,000 draws: about 11,290 of each character (sd ~ 105); a modulo bias would give 8 of them ~ 13,670.
    assert set(counts) == set(ALPHABET)
    assert all(10_300 < count < 12_300 for count in counts.values()), counts.most_common(3)
    assert len(set(strings)) > 99_990  # 62^7 possible: collisions are rare
    assert random_strings(0, 7) == []
