"""Backup and restore benchmark: bench/dashboard.py's course of N groups (31 answers each, 2-3 figures of noise,
~35 kB each) backed up with `manage.py backup`, then restored into a fresh database and media folder with
`manage.py restore`.

    .venv/bin/python bench/backup.py [--groups 150]                      # on SQLite
    .ci/with-postgres .venv/bin/python bench/backup.py [--groups 150]    # on PostgreSQL (a throwaway cluster)

Each command runs in a process of its own, as a person runs it, and its wall time is shown whole; `manage.py check`
alone shows how much of that is Python and Django starting.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENV = {"DEBUG": "0", "SECRET_KEY": "bench-only-" + "x" * 40, "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING"}


def databases(folder: Path) -> tuple[str, str]:
    """URLs of the site's database and of an empty one to restore into: PostgreSQL when DATABASE_URL names one
    (both made anew in its cluster), else two SQLite files in `folder`."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{folder / 'site.sqlite3'}", f"sqlite:///{folder / 'restored.sqlite3'}"
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        for name in ("bench_site", "bench_restored"):
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            db.execute(f"CREATE DATABASE {name}")
    base = url.rsplit("/", 1)[0]
    return f"{base}/bench_site", f"{base}/bench_restored"


def manage(*args: str, database: str, media: Path) -> tuple[float, str]:
    env = {**os.environ, **ENV, "DATABASE_URL": database, "MEDIA_ROOT": str(media)}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return time.perf_counter() - start, result.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", type=int, default=150)
    ap.add_argument("--template", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as folder:
        return run(args, Path(folder))


def run(args: argparse.Namespace, folder: Path) -> int:
    site, restored = databases(folder)
    os.environ.update(ENV, DATABASE_URL=site, MEDIA_ROOT=str(folder / "media"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "course.settings")
    sys.path[:0] = [str(ROOT), str(HERE)]
    import django

    django.setup()
    from dashboard import make_course
    from django.db import connection
    from export import noise_png

    rng = random.Random(2476)
    start = time.perf_counter()
    make_course(args.groups, args.template, figures=[noise_png(rng) for _ in range(6)])
    connection.close()
    print(f"setup: {args.groups} groups on {connection.vendor} in {time.perf_counter() - start:.0f} s")

    startup, _ = manage("check", database=site, media=folder / "media")
    print(f"manage.py check (Python and Django starting): {startup:.1f} s")
    out = folder / "site.tar"
    took, printed = manage("backup", str(out), database=site, media=folder / "media")
    print(f"backup: {took:.1f} s wall\n  {printed}")
    with tarfile.open(out) as tar:
        members = tar.getmembers()
    database = sum(m.size for m in members if m.name.startswith("database."))
    media = sum(m.size for m in members if m.name.startswith("media/"))
    print(
        f"tar: {out.stat().st_size / 1e6:.1f} MB ({database / 1e6:.1f} MB database, {media / 1e6:.1f} MB in "
        f"{len(members) - 2} media files)"
    )
    took, printed = manage("restore", str(out), database=restored, media=folder / "restored-media")
    print(f"restore (into an empty database and media folder): {took:.1f} s wall\n  {printed.splitlines()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
