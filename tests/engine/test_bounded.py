"""bounded.run: work on hostile input in a worker process that is killed past its budget; the caller goes on."""

import threading

import pytest

from reports_app.engine import bounded, rendering


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024**2))


def _deep(depth: int) -> int:
    return 0 if depth == 0 else 1 + _deep(depth - 1)


def _pid() -> int:
    import os

    return os.getpid()


@pytest.mark.timeout(20)
def test_a_call_past_its_time_is_killed_and_the_next_call_works():
    with pytest.raises(bounded.OverBudget, match=r"took longer than 0.5 s"):
        bounded.run(bounded._spin, 60, seconds=0.5)
    assert bounded.run(len, "after") == 5


def test_a_call_past_its_memory_fails_without_harming_the_caller():
    budget = bounded.Budget(seconds=20, memory=512 * 1024**2)
    with pytest.raises(bounded.Failed) as raised:
        bounded.run(_allocate, 1024, budget=budget)
    assert raised.value.kind == "MemoryError"
    assert bounded.run(_allocate, 16, budget=budget) == 16 * 1024**2


def test_recursion_is_bounded_by_the_budget():
    assert bounded.run(_deep, 500, budget=bounded.Budget(recursion=1000)) == 500
    with pytest.raises(bounded.Failed) as raised:
        bounded.run(_deep, 500, budget=bounded.Budget(recursion=200))
    assert raised.value.kind == "RecursionError"


def test_a_worker_that_raised_is_never_reused():
    first = bounded.run(_pid)
    assert bounded.run(_pid) == first  # a worker that answered is reused
    with pytest.raises(bounded.Failed):
        bounded.run(_deep, 10_000)
    assert bounded.run(_pid) != first


def test_a_failed_render_leaves_nothing_behind_for_the_next():
    """Python-Markdown leaves list state in an instance whose parse raised; the next text must not meet it."""
    import markdown

    nested = "1. " * 500
    with pytest.raises(rendering.RenderError, match="nested 500 levels deep"):
        rendering.render_markdown(nested)
    listing = "1. one\n2. two\n\n- a\n- b\n"
    assert rendering.render_markdown(listing) == markdown.markdown(listing)


def test_a_failed_render_in_process_drops_its_markdown_instance():
    import markdown

    with pytest.raises(RecursionError):
        rendering.markdown_html("1. " * 5000)
    listing = "1. one\n2. two\n\n> quoted\n"
    assert rendering.markdown_html(listing) == markdown.markdown(listing)


@pytest.mark.timeout(60)
def test_calls_from_many_threads_each_get_their_own_answer():
    texts = [f"*text {i}*" for i in range(16)]
    results: dict[int, str] = {}

    def render(i: int) -> None:
        results[i] = rendering.render_markdown(texts[i])

    threads = [threading.Thread(target=render, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: f"<p><em>text {i}</em></p>" for i in range(len(texts))}
    assert len(bounded._idle) <= bounded.MAX_IDLE


def _refuse(why: str) -> None:
    raise ValueError(why)


def test_an_expected_exception_comes_back_as_it_was_and_its_worker_stays():
    first = bounded.run(_pid)
    with pytest.raises(ValueError, match=r"^refused on purpose$"):
        bounded.run(_refuse, "refused on purpose", expected=(ValueError,))
    assert bounded.run(_pid) == first
