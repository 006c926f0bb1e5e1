"""Course export benchmark: a course of N groups with full reports and 2-3 figures each, exported to a zip file.

    .venv/bin/python bench/export.py [--groups 150] [--template FILE]

Setup (bench/dashboard.py's course, on a fresh SQLite database and media folder in a temporary folder): N groups of
3 members, each with a report from bench/engine.py's `make_report` (~44 kB for 31 questions) and 2-3 PNG figures of
noise (~35 kB each, so ~100 kB a group; noise does not compress, as screenshots barely do).

The export then runs twice in a fresh child process each, so that setup does not count in its memory: once timed
(wall and CPU time, peak RSS from getrusage ru_maxrss, against the RSS right after Django starts), once under
tracemalloc for the peak of Python allocations (tracemalloc slows the run, so that run's time is not the one shown).
Targets from the issue: under 10 s and a peak under 300 MB for 150 groups.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def noise_png(rng: random.Random, width: int = 110, height: int = 100) -> bytes:
    from PIL import Image

    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def measure(folder: Path, traced: bool) -> dict:
    """Runs in the child: export the course once; what it cost."""
    from dashboard import setup_django

    setup_django(folder)
    import tracemalloc

    from reports_app import exporting
    from reports_app.models import Course

    course = Course.objects.get(code="BENCH")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if traced:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    with open(folder / "export.zip", "wb") as out:
        summary = exporting.course_export(course=course, out=out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the render processes, ended with the export
    return {
        "workers": exporting.default_workers(),
        "workers_cpu": workers.ru_utime + workers.ru_stime,
        "worker_rss": workers.ru_maxrss / 1024,
        "wall": wall,
        "cpu": cpu,
        "rss_before": rss_before,
        "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "traced_peak": tracemalloc.get_traced_memory()[1] / 2**20 if traced else None,
        "zip_mb": (folder / "export.zip").stat().st_size / 2**20,
        "summary": str(summary),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", type=int, default=150)
    ap.add_argument("--template", type=Path, default=None)
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child: the folder of a course made already
    ap.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.traced)))
        return 0

    from dashboard import make_course, setup_django

    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    setup_django(folder)
    rng = random.Random(2476)
    figures = [noise_png(rng) for _ in range(6)]
    start = time.perf_counter()
    _, template_name, n_questions = make_course(args.groups, args.template, figures=figures)
    media = sum(f.stat().st_size for f in (folder / "media").rglob("*") if f.is_file()) / 2**20
    print(
        f"setup: {args.groups} groups x {n_questions} questions ({template_name}), {media:.1f} MB of figures, "
        f"in {time.perf_counter() - start:.0f} s"
    )

    def child(*extra: str) -> dict:
        command = [sys.executable, str(HERE / "export.py"), "--measure", str(folder), *extra]
        return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)

    timed, traced = child(), child("--traced")
    print(f"export: {timed['summary']}")
    print(f"zip: {timed['zip_mb']:.1f} MB")
    print(
        f"time: {timed['wall']:.1f} s wall  (target < 10 s); CPU {timed['cpu']:.1f} s in the exporting process, "
        f"{timed['workers_cpu']:.1f} s in its {timed['workers']} render processes"
    )
    total = timed["rss_peak"] + timed["workers"] * timed["worker_rss"]
    print(
        f"peak RSS: {timed['rss_peak']:.0f} MB in the exporting process (after Django started: "
        f"{timed['rss_before']:.0f} MB), at most {timed['worker_rss']:.0f} MB in each render process; "
        f"{total:.0f} MB together at most  (target < 300 MB)"
    )
    print(f"tracemalloc peak: {traced['traced_peak']:.1f} MB of Python allocations during the export")
    return 0


if __name__ == "__main__":
    sys.exit(main())
