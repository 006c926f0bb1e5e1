"""Checking hostile READMEs: prints the seconds each takes through the `check_report` path. Target: < 1 s each.

    .venv/bin/python bench/check_hostile.py [--size 100000] [--only NAME]

Each case is a README of about `--size` characters built to make a careless regex or loop superlinear: unclosed
image syntax, long heading lines, many `Answer:` markers, many `###`, one long line, deep `>` quotes, many
questions and sections; and the demo template with each of those in every answer (a tenth each) or all in one.
Each goes through what `manage.py check_report FILE` does without the database: pick the closest template
(`closest_template`), check it as the course does (`check_text`, falling back to `parse_report` where the course's
checker would stop), and import it (`parse_report`). The history page's word diff and the template comparison's line
diff of two long texts are timed too.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports_app.engine import checks, diffing, matching, parsing, rendering  # noqa: E402

DEMO_TEMPLATE = ROOT / "reports_app" / "demo" / "template.md"


def repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def hostile_texts(size: int, sections: tuple[str, ...]) -> dict[str, str]:
    """Pieces of text that are slow for one careless pattern or loop each, about `size` characters long."""
    return {
        "unclosed images": repeat("![a](", size),
        "unclosed image openers": repeat("![", size),
        "images without links": repeat("![a]", size),
        "images with a close far away": repeat("![a](", size - 1) + ")",
        "long heading line": "# a" + " " * (size - 4) + "b",
        "long heading of hashes": "#" + repeat(" #a", size),
        "many Answer: markers": repeat("Answer:", size),
        "many Answer: lines": repeat("> Answer:\n", size),
        "many ###": repeat("###\n", size),
        "many ## on one line": repeat("## ", size),
        "one long line": "a" * size,
        "one long line of words": repeat("word ", size),
        "deep > quotes": ">" * size,
        "many checkbox lines": repeat("* [x] item (M1+M2)\n", size),
        "many question headings": "".join(f"### Question {n}\n> Answer:\nx\n" for n in range(size // 30)),
        "questions between sections": "".join(
            f"## {sections[n % len(sections)]}\n### Question {n % 10 + 1}\n> Answer:\n" for n in range(size // 40)
        ),
    }


def filled_template(template: parsing.ParsedTemplate, text: str, *, every: bool) -> str:
    """The template with a tenth of `text` in every answer (`every`), or all of it in question 1's."""
    per_answer = len(text) // len(template.questions)
    answers = {q.number: text[:per_answer] for q in template.questions} if every else {1: text}
    return parsing.render_layout(template.layout, answers, {})


def check_report_path(text: str, template: parsing.ParsedTemplate, outline: frozenset) -> None:
    """What `manage.py check_report FILE` does, minus the database."""
    matching.closest_template(text, [("demo", outline)])
    rules = [checks.Rule(q.number, q.words, q.images) for q in template.questions]
    checks.check_text(text, rules, checks.CHECKERS[template.checker], lambda: parsing.parse_report(text, template))
    parsing.parse_report(text, template)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="characters per hostile README (default 100000)")
    ap.add_argument("--only", help="run only the cases whose name contains this")
    args = ap.parse_args()

    template = parsing.parse_template(DEMO_TEMPLATE.read_text(encoding="utf-8"))
    outline = matching.outline_shingles(DEMO_TEMPLATE.read_text(encoding="utf-8"))
    cases: list[tuple[str, Callable[[], object]]] = []
    for name, text in hostile_texts(args.size, template.sections).items():
        cases.append((name, lambda text=text: check_report_path(text, template, outline)))
        for every, where in ((True, "every answer"), (False, "question 1")):
            filled = filled_template(template, text, every=every)
            cases.append(
                (f"demo template, {name} in {where}", lambda t=filled: check_report_path(t, template, outline))
            )
    few_words = "data model the a we test".split()
    old = " ".join(few_words[n % 6] for n in range(args.size // 5))
    new = " ".join(few_words[n * 7 % 5] for n in range(args.size // 5))
    words = [f"w{i}" for i in range(args.size // 10)]
    cases += [
        ("word diff of two long texts of six words", lambda: rendering.word_diff(old, new)),
        (
            "word diff of two long texts, one the other reversed",
            lambda: rendering.word_diff(" ".join(words), " ".join(reversed(words))),
        ),
        (
            "word diff of one long text against itself, one word changed",
            lambda: rendering.word_diff(old, "x" + old[1:]),
        ),
        (
            "line diff of two long sources of short lines",
            lambda: diffing.line_diff(old.replace(" ", "\n"), new.replace(" ", "\n")),
        ),
    ]

    worst = 0.0
    print(f"{'case':<70} seconds")
    for name, fn in cases:
        if args.only and args.only not in name:
            continue
        seconds = timed(fn)
        worst = max(worst, seconds)
        print(f"{name:<70} {seconds:7.3f}", flush=True)
    print(f"{'slowest':<70} {worst:7.3f}  (target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
