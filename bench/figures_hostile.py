"""Hostile figures: a progressive JPEG in thousands of scans, and a repo with tens of thousands of tiny figures.

    .venv/bin/python bench/figures_hostile.py [--scans 1000] [--size 6000] [--figures 50000] [--uncapped]

(a) The JPEG (`tests/images.progressive_jpeg`: `--size` x `--size` grey pixels in `--scans` scans, within
    FIGURE_MAX_BYTES and FIGURE_MAX_PIXELS): how long Pillow takes to decode it in this process, as every upload and
    scrape did before the bound, then how long `figures.inspect_image` (the check uploads and scrapes go through now)
    takes to refuse it; then the same for one of FIGURE_MAX_SCANS scans, which is decoded within the budget.
(b) A repo (made with `git fast-import`) whose reports/figures/ holds `--figures` distinct 1 x 1 PNGs, scraped by
    `group_scrape` into a fresh SQLite database: seconds, figure rows, bytes of media on disk, skipped files
    listed. With `--uncapped` it is scraped once more with SCRAPE_MAX_FIGURES above `--figures`, as before the cap.
No asserts: it prints the numbers (the machine's load skews them; it is printed too).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.images import progressive_jpeg  # noqa: E402


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    try:
        outcome = fn()
    except Exception as error:  # the refusal is the outcome we want to see
        outcome = f"{type(error).__name__}: {error}"
    return time.perf_counter() - started, outcome


def pillow_decode(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return f"decoded, {image.size[0]} x {image.size[1]}"


def hostile_jpeg(size: int, scans: int, max_scans: int) -> None:
    from django.conf import settings

    from reports_app.engine import figures

    for count in (scans, max_scans):
        data = progressive_jpeg(size, size, count)
        print(f"(a) JPEG {size} x {size} in {count} scans, {len(data) / 1024:.0f} kB:")
        seconds, outcome = timed(lambda data=data: pillow_decode(data))
        print(f"    before: Pillow in the web worker  {seconds:7.2f} s  ({outcome})")
        check = lambda data=data: figures.inspect_image(  # noqa: E731
            data,
            max_bytes=settings.FIGURE_MAX_BYTES,
            max_pixels=settings.FIGURE_MAX_PIXELS,
            max_scans=settings.FIGURE_MAX_SCANS,
        )
        seconds, outcome = timed(check)
        print(f"    now:    figures.inspect_image     {seconds:7.2f} s  ({outcome})")


def png_1x1(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (n % 256, n // 256 % 256, n // 65536 % 256)).save(buffer, "PNG")
    return buffer.getvalue()


def many_figures_repo(folder: Path, count: int, readme: bytes) -> str:
    """A bare repo with one commit: reports/README.md and `count` distinct tiny PNGs in reports/figures/."""
    stream = bytearray(b"commit refs/heads/main\ncommitter S <s@example.com> 1736500000 +0000\ndata 4\nfigs\n")
    stream += f"M 100644 inline reports/README.md\ndata {len(readme)}\n".encode() + readme + b"\n"
    for n in range(count):
        data = png_1x1(n)
        stream += f"M 100644 inline reports/figures/fig{n:06}.png\ndata {len(data)}\n".encode() + data + b"\n"
    repo = folder / "many.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=bytes(stream), check=True)
    subprocess.run(["git", "-C", str(repo), "config", "uploadpack.allowFilter", "true"], check=True)
    return f"file://{repo}"


def many_figures(tmp: Path, count: int, uncapped: bool) -> None:
    from django.conf import settings

    from reports_app.models import Course, Figure, Group
    from reports_app.services.scrapes import group_scrape
    from reports_app.services.templates import template_load

    source = (ROOT / "reports_app" / "demo" / "template.md").read_text(encoding="utf-8")
    template, _ = template_load(name="bench", source=source)
    folder = tmp / "repos"
    folder.mkdir()
    settings.SCRAPE_ALLOWED_URLS = [f"file://{folder}/"]
    started = time.perf_counter()
    url = many_figures_repo(folder, count, source.encode())
    print(f"(b) repo with {count} figures made in {time.perf_counter() - started:.1f} s")
    course = Course.objects.create(code="BENCH", template=template)
    settings.MEDIA_ROOT = tmp / "media"
    runs = [("now", settings.SCRAPE_MAX_FIGURES)] + ([("before (uncapped)", count + 1)] if uncapped else [])
    for number, (label, cap) in enumerate(runs, 1):
        settings.SCRAPE_MAX_FIGURES = cap
        group = Group.objects.create(course=course, number=number, repo_url=url)
        seconds, scrape = timed(lambda group=group: group_scrape(group=group, at_deadline=False))
        rows = Figure.objects.filter(report__group=group)
        folder = Path(settings.MEDIA_ROOT) / "figures" / str(rows.first().report_id)
        files = [p for p in folder.rglob("*") if p.is_file()]
        print(
            f"    {label:18} SCRAPE_MAX_FIGURES={cap}: {seconds:6.1f} s, {rows.count()} rows, {len(files)} files "
            f"({sum(p.stat().st_size for p in files) / 1e6:.1f} MB, {du(folder)} on disk), "
            f"{len(scrape.skipped)} skipped files listed, status {scrape.status}"
        )


def du(path: Path) -> str:
    """Disk use as `du` counts it (a tiny file takes a whole block)."""
    return subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True).stdout.split()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scans", type=int, default=1000, help="scans of the hostile JPEG (default 1000)")
    ap.add_argument("--size", type=int, default=6000, help="its width and height (default 6000)")
    ap.add_argument("--figures", type=int, default=50_000, help="tiny figures in the repo (default 50000)")
    ap.add_argument("--uncapped", action="store_true", help="scrape it once more without the cap, as before")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-figures-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    try:
        call_command("migrate", "--noinput", verbosity=0)
        load = os.getloadavg()[0]
        print(f"load average before: {load:.1f} (2 fills this machine); budget {settings.BUDGET_SECONDS} s")
        hostile_jpeg(args.size, args.scans, settings.FIGURE_MAX_SCANS)
        many_figures(tmp, args.figures, args.uncapped)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
