"""Rendering hostile markdown: how long Python-Markdown takes on it, and how long `render_markdown` (bounded) takes.

    .venv/bin/python bench/render_hostile.py [--budget 5] [--limit 60] [--calls 200]

For each input, "in-process" is `rendering.markdown_html(text)` timed inside a plain interpreter with no budget (a
child process, so that a minutes-long render can be stopped: after --limit seconds it prints ">LIMIT s"; pass
--limit 200 to see the 30 kB `[` finish), and "bounded" is `rendering.render_markdown(text)` as the site calls it,
under a budget of --budget seconds (the site's BUDGET_SECONDS, default 5), with its outcome. Then the overhead of the
budget on text people really write: a normal answer, the demo README (the demo template), the demo template filled
to a real report's size, in microseconds per call (the worker is started once and reused), and how far the 100 kB
report stays from the budget.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports_app.engine import bounded, parsing, rendering  # noqa: E402

DEMO_TEMPLATE = ROOT / "reports_app" / "demo" / "template.md"
WORDS = "data model pipeline training we used the a container cloud test our and to of for with deploy metrics".split()

NORMAL_ANSWER = """We pull the hourly readings from the **open weather API** and keep a versioned copy in a bucket
that the whole group can read. The pipeline has three stages:

1. `fetch` downloads the raw files and checks their hashes,
2. `clean` drops broken rows and writes *parquet*,
3. `train` fits the model and logs the metrics.

See [the docs](https://example.com/docs) and ![the pipeline](figures/pipeline.png) for the details."""


def filled_readme(size: int) -> str:
    """The demo template with every answer filled with prose, lists and emphasis until the README is ~`size` chars."""
    template = parsing.parse_template(DEMO_TEMPLATE.read_text(encoding="utf-8"))
    per_answer = max(200, size // len(template.questions))
    answers = {}
    for q in template.questions:
        words, lines = [], []
        for i in range(per_answer // 7):
            words.append(WORDS[(i * 7 + q.number) % len(WORDS)])
            if len(words) == 14:
                lines.append(" ".join(words) + (" *and* [a link](https://example.com)." if i % 3 else "."))
                words = []
        lines += ["", "- first point", "- second point with `code`", "", NORMAL_ANSWER]
        answers[q.number] = "\n".join(lines)
    return parsing.render_layout(template.layout, answers, {})


def hostile_inputs() -> dict[str, str]:
    return {
        "nested lists 1. x500": "1. " * 500 + "deep",
        "unbalanced [ 10 kB": "[" * 10_000,
        "unbalanced [ 20 kB": "[" * 20_000,
        "unbalanced [ 30 kB": "[" * 30_000,
        "deep > quotes x1000": ">" * 1000 + " deep",
        "emphasis run *_ 30 kB": "*_" * 15_000,
        "legit-looking report 100 kB": filled_readme(100_000),
    }


def _timed_render(text: str) -> tuple[float, str]:
    """In the child: seconds `markdown_html(text)` took, and how it ended."""
    start = time.perf_counter()
    try:
        rendering.markdown_html(text)
        outcome = "ok"
    except RecursionError:
        outcome = "RecursionError"
    return time.perf_counter() - start, outcome


def in_process(text: str, limit: float) -> str:
    import bench.render_hostile as this  # by its module name, which the child can import (not as __main__)

    budget = bounded.Budget(seconds=limit, memory=0, recursion=sys.getrecursionlimit())
    try:
        seconds, outcome = bounded.run(this._timed_render, text, budget=budget)
    except bounded.OverBudget:
        return f">{limit:g} s"
    return f"{seconds:8.3f} s {outcome}"


def bounded_render(text: str) -> str:
    start = time.perf_counter()
    try:
        rendering.render_markdown(text)
        outcome = "ok"
    except rendering.RenderError as error:
        outcome = f"RenderError: {error}"
    return f"{time.perf_counter() - start:8.3f} s {outcome}"


def per_call_us(fns: tuple[Callable[[str], object], ...], text: str, calls: int) -> list[float]:
    """Median microseconds per call of each function, calls interleaved so that a busy moment hits all alike."""
    times: list[list[float]] = [[] for _ in fns]
    for fn in fns:
        fn(text)  # warm: the worker started, the Markdown instance built
    for _ in range(calls):
        for fn, spent in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn(text)
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) * 1e6 for spent in times]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=5.0, help="seconds a bounded render may take (default 5)")
    ap.add_argument("--limit", type=float, default=60.0, help="stop an unbounded render after this long (default 60)")
    ap.add_argument("--calls", type=int, default=200, help="calls per overhead measurement (default 200)")
    args = ap.parse_args()
    bounded.configure(bounded.Budget(seconds=args.budget))

    print(f"{'input':30} {'size':>8}  {'in-process':28} bounded (budget {args.budget:g} s)")
    for name, text in hostile_inputs().items():
        print(f"{name:30} {len(text):8}  {in_process(text, args.limit):28} {bounded_render(text)}", flush=True)

    demo = DEMO_TEMPLATE.read_text(encoding="utf-8")  # what the demo course's README is until students write
    filled = filled_readme(30_000)
    big = filled_readme(100_000)
    print(f"\noverhead of the budget (median of {args.calls} calls, worker warm)")
    texts = (("normal answer", NORMAL_ANSWER), ("demo README", demo), ("filled README", filled), ("100 kB report", big))
    for name, text in texts:
        calls = args.calls if len(text) < 50_000 else max(10, args.calls // 10)
        plain, budgeted = per_call_us((rendering.markdown_html, rendering.render_markdown), text, calls)
        print(
            f"{name:14} {len(text):7} chars: in-process {plain:9.0f} us, bounded {budgeted:9.0f} us, "
            f"overhead {budgeted - plain:7.0f} us/call ({budgeted / plain:.2f}x)"
        )
    start = time.perf_counter()
    rendering.render_markdown(big)
    worst = time.perf_counter() - start
    print(f"\nthe 100 kB report renders in {worst:.3f} s: {worst / args.budget:.1%} of the {args.budget:g} s budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
