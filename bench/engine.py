"""Report engine benchmark: check, render and import N reports in one process; prints ms per report for each.

    .venv/bin/python bench/engine.py [--reports 200] [--template FILE]

Reports are generated from a template (default: the newest course template in ../shared when present, else our
demo template): every answer filled with deterministic filler text sized within its word rule, figures where
images are asked for, so the files are as long as real ones (~35 kB for the 31-question template).
Runs on a fresh SQLite database in a temporary folder. Targets: check < 5 ms, HTML < 50 ms, import < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_TEMPLATES = ROOT.parent / "shared" / "templates"
DEMO_TEMPLATE = ROOT / "reports_app" / "demo" / "template.md"
WORDS = "data model pipeline training we used the a container cloud test our and to of for with deploy metrics".split()


def default_template() -> Path:
    course = sorted(SHARED_TEMPLATES.glob("2*.md"))
    return course[-1] if course else DEMO_TEMPLATE


def make_report(parsed, rng: random.Random) -> str:
    from reports_app.engine.parsing import render_layout

    answers = {}
    for q in parsed.questions:
        low, high = q.words or (5, 60)
        words = [rng.choice(WORDS) for _ in range(rng.randint(max(low, 1), high))]
        lines = [" ".join(words[i : i + 14]) for i in range(0, len(words), 14)]
        if q.images:
            lines += [f"![figure {k}](figures/q{q.number}_{k}.png)" for k in range(rng.randint(0, q.images[1]))]
        answers[q.number] = "\n".join(lines)
    marks = {item.index: rng.choice(["x", " ", "X", "X "]) for item in parsed.checklist}
    return render_layout(parsed.layout, answers, marks)


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", type=int, default=200)
    ap.add_argument("--template", type=Path, default=None)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from reports_app.engine import rendering
    from reports_app.services.checking import check_markdown
    from reports_app.services.reports import group_get_or_create, report_import, report_markdown
    from reports_app.services.templates import template_load

    call_command("migrate", "--noinput", verbosity=0)
    template_file = args.template or default_template()
    template, _ = template_load(name="bench", source=template_file.read_text(encoding="utf-8"))
    parsed = template.parsed()
    rng = random.Random(2476)
    reports = [make_report(parsed, rng) for _ in range(args.reports)]
    rules = template.rules()

    check = timed(lambda text: check_markdown(text, template, rules), reports)
    html = timed(rendering.standard_html, reports)
    groups = [group_get_or_create(course_code="BENCH", number=n) for n in range(len(reports))]
    pairs = list(zip(groups, reports, strict=True))
    imports = timed(lambda p: report_import(group=p[0], text=p[1], template=template, label="bench"), pairs)
    exports = timed(lambda g: report_markdown(g.report), groups)

    size = statistics.mean(len(r) for r in reports) / 1000
    print(
        f"template {template_file.name}: {len(parsed.questions)} questions; "
        f"{len(reports)} reports of {size:.1f} kB on average"
    )
    for name, values, target in (
        ("check", check, 5),
        ("standard html", html, 50),
        ("import", imports, 50),
        ("export", exports, None),
    ):
        mean, median = statistics.mean(values), statistics.median(values)
        line = f"{name:14} mean {mean:6.2f} ms/report  median {median:6.2f}  max {max(values):6.2f}"
        print(line + (f"  (target < {target} ms)" if target else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
