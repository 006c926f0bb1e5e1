"""Bulk export of a course for grading: one zip with every group's hand-in, an index page and a grades sheet.

    index.html                  every group: links, pass count, a verdict per question (P/W/I/M/S, coloured),
                                members with study numbers, commit, late (self-contained page)
    grades.csv                  one row per group, one verdict column per question, then the points per graded
                                question, the group's total and the max total (opens in Excel)
    group-007/README.md         the group's README as it stands now: the file as committed, byte for byte, while
                                the report says what it says; rebuilt from the answers (with the file's line
                                ends) once they change on the site
    group-007/report.html       ... as the course renders it (rendering.standard_html, byte for byte)
    group-007/grading.html      ... sanitized, figures inside, below a header with the group, its members, the
                                commit and the verdicts (the bytes report_grading_html gives)
    group-007/figures/<name>
    group-008/CANNOT-RENDER.txt why group 8 has README.md and figures only: its HTML could not be made in the budget
    manifest.json               per group folder: the commit its README came from, the README's git blob id and
                                sha256 as written, and whether it is the committed file (`manage.py verify_export`)

Groups are read and written a chunk at a time, so memory stays flat whatever the size of the course. What goes wrong
with one group's pages stays in its folder: every other group comes out as it would without it. Times are in the
site's time zone (TIME_ZONE), entries extract as 0644 (files) and 0755 (folders).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from .engine import rendering
from .engine.csvfiles import write_csv
from .engine.readme_file import ReadmeFile, readme_file
from .models import Course, Figure, Group, Report
from .selectors.grade_exports import CoursePoints, course_points
from .selectors.grading import VERDICT_LABELS, grading_header, invited_people
from .selectors.overview import GroupOverview, QuestionVerdict, Verdict, course_overview
from .services.reports import grading_title, report_folder_write, zip_add
from .services.scrapes import failure_reason

logger = logging.getLogger(__name__)
CHUNK_GROUPS = 20  # groups read per round of queries: ~20 x 50 kB of answers at a time
CANNOT_RENDER_FILE = "CANNOT-RENDER.txt"
CANNOT_RENDER_TEXT = (
    "The hand-in HTML of group {number} could not be made: {why}.\n"
    "So this folder has no report.html and no grading.html; README.md is the report as it stands, and figures/ its "
    "figures.\n"
)
MAX_NAME_PART = 100
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class ExportSummary:
    groups: int
    reports: int  # groups with a folder in the zip
    figures: int
    no_report: int
    late: int
    stops: int  # reports the course checker stops on
    problems: tuple[str, ...] = ()  # files we could not put in the zip, each named
    unrendered: tuple[str, ...] = ()  # "group 8: why" of each group whose HTML could not be made

    def __str__(self) -> str:
        """'12 groups, 11 reports with 30 figures; 1 with nothing written, 2 late'."""
        text = f"{self.groups} groups, {self.reports} reports with {self.figures} figures"
        counts = [
            f"{n} {label}"
            for n, label in (
                (self.no_report, "with nothing written"),
                (self.late, "late"),
                (self.stops, "that the course checker stops on"),
                (len(self.unrendered), f"without HTML ({CANNOT_RENDER_FILE})"),
            )
            if n
        ]
        text += f"; {', '.join(counts)}" if counts else ""
        text += "".join(f"\ncannot render {group}" for group in self.unrendered)
        return text + "".join(f"\nnot exported: {problem}" for problem in self.problems)


def group_folder(group: Group) -> str:
    return f"group-{group.number:03d}"


def file_name_part(text: str, *, fallback: str = "course") -> str:
    """`text` (a course code, a group name) as one plain file name component: ASCII letters, digits, `.`, `_` and
    `-`, never starting with `.` or `-`; `fallback` when nothing is left. Paths and zip member names built from data
    use it, so that no value in the database can point outside the folder it is written to.

    >>> file_name_part("MLOps-2025"), file_name_part("../../etc/x"), file_name_part("Åse's group"), file_name_part("..")
    ('MLOps-2025', 'etc-x', 'Ase-s-group', 'course')
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text).lstrip(".-")[:MAX_NAME_PART].rstrip(".-")
    return name or fallback


def download_name(course: Course, finished_at: datetime) -> str:
    """'C1-reports-20260121-0104.zip': an export's name as downloaded, its time in the site's time zone."""
    return f"{file_name_part(course.code)}-reports-{timezone.localtime(finished_at):%Y%m%d-%H%M}.zip"


# --- CSV -----------------------------------------------------------------------------------------------------------


def local_time(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


SEEN_LATE_COLUMN = "first seen after deadline"


WITHOUT_COMMITS_COLUMN = "members without commits"


def _header(numbers: tuple[int, ...]) -> list[str]:
    questions = [f"Q{n}" for n in numbers]
    return [
        "group",
        "name",
        "members",
        "study numbers",
        "passed",
        "questions",
        *questions,
        "commit",
        f"commit time ({settings.TIME_ZONE})",
        "late",
        SEEN_LATE_COLUMN,
        WITHOUT_COMMITS_COLUMN,
    ]


def _cells(numbers: tuple[int, ...], row: GroupOverview) -> list:
    return [
        row.group.number,
        row.group.name,
        "; ".join(row.member_emails()),
        study_numbers(row),
        row.passed,
        row.total,
        *(row.verdict(n).letter for n in numbers),  # as on the dashboard: P, W, I, M, S
        row.scrape.commit_sha if row.scrape else "",
        local_time(row.commit_at),
        "yes" if row.late else "no",
        "yes" if row.seen_late else "no",  # the commit graded is dated before the deadline, first seen after it
        # nobody when the scrape counted no commits, or its history was cut (they may have older ones)
        "; ".join(m.email or m.username for m in row.without_commits),
    ]


def study_numbers(row: GroupOverview) -> str:
    """The members' study numbers in the order of the members column ('s1; ; s3' when the second has none); ''
    when no member has one."""
    numbers = [member.study_number for member in row.members]
    return "; ".join(numbers) if any(numbers) else ""


def grades_rows(
    numbers: tuple[int, ...],
    rows: Iterable[GroupOverview],
    points: CoursePoints,
    notes: dict[int, str] | None = None,
    blobs: dict[int, str] | None = None,
) -> Iterator[list]:
    """grades.csv: a header, then per group its members' e-mails and study numbers, pass count and a
    P/W/I/M/S per question as on the dashboard, its points per graded question ('' where not graded), total and the
    max total (`points`, as in the grades download), `notes` by group id (e.g. that its HTML could not be made) and
    the git blob id of its exported README.md (`blobs` by group id)."""
    notes, blobs = notes or {}, blobs or {}
    yield [*_header(numbers), *points.header(), "readme_blob", "notes"]
    for row in rows:
        pk = row.group.pk
        yield [*_cells(numbers, row), *points.cells(pk), blobs.get(pk, ""), notes.get(pk, "")]


def dashboard_rows(numbers: tuple[int, ...], rows: Iterable[GroupOverview]) -> Iterator[list]:
    """The dashboard's table as CSV: the grades columns, then the scrape status, the flags and the members' commits
    ('alice@x.dk 12; bob@x.dk 0', empty when the last scrape counted none; 'bob@x.dk none among the newest 20,000'
    when its history was cut)."""
    yield [*_header(numbers), "scrape status", "flags", "commits"]
    for row in rows:
        status = row.scrape.get_status_display() if row.scrape else "not scraped"
        counted = row.contributions
        members = counted.members if counted else ()
        commits = [f"{m.person.email or m.person.username} {counted.count_text(m)}" for m in members]
        yield [*_cells(numbers, row), status, "; ".join(row.flags), "; ".join(commits)]


# --- the zip -------------------------------------------------------------------------------------------------------


def default_workers() -> int:
    """The renders run at once during an export (each in a `bounded` worker process): one per core we may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def course_export(
    *,
    course: Course,
    out: BinaryIO,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> ExportSummary:
    """Write the course's zip to `out` as it goes; progress(0, total) first, then progress(done, total) per group.

    Markdown is nine tenths of the work (two renderings of ~50 ms per report), so with `workers` > 1 (default: one
    per core) that many threads have pages rendered, each render in a `bounded` worker process under its time and
    memory budget, while this thread reads the next groups and writes the zip.
    A group without a report has no folder but is listed in index.html and grades.csv ("no report"). A group whose
    pages cannot be made (past the budget, or anything else that goes wrong with them) gets README.md, its figures
    and CANNOT-RENDER.txt saying why, and index.html and grades.csv say so. A figure file that cannot be read is
    left out and named in the summary's problems. Either way the rest of the export goes on, unchanged.
    """
    ids = list(course.groups.order_by("number").values_list("pk", flat=True))
    workers = default_workers() if workers is None else workers
    now = timezone.now()  # every entry's date, and the index's "exported"
    listed: list[tuple[GroupOverview, str | None, str]] = []  # rows without README, folder, why no HTML
    numbers: set[int] = set()
    figure_count, problems = 0, []
    manifest: dict[str, dict] = {}  # group folder -> where its README.md comes from
    if progress:
        progress(0, len(ids))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="export") if workers > 1 else None
    with pool or contextlib.nullcontext(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        chunks = _read(course, ids, pool, problems)
        ahead = next(chunks, None)
        while ahead is not None:
            (columns, groups), ahead = ahead, next(chunks, None)  # the next chunk renders while this one is written
            numbers.update(columns)
            for row, files, pages, readme in groups:
                folder, why = None, ""
                if pages is not None:
                    folder = group_folder(row.group)
                    manifest[folder] = _manifest_entry(row, readme)
                    try:
                        html, grading = pages()
                    except Exception as error:
                        why = _why(row.group, error)
                        cannot = {CANNOT_RENDER_FILE: CANNOT_RENDER_TEXT.format(number=row.group.number, why=why)}
                        report_folder_write(archive, folder, readme.data, files, cannot, when=now)
                    else:
                        pages = {"report.html": html, "grading.html": grading}
                        report_folder_write(archive, folder, readme.data, files, pages, when=now)
                    figure_count += len(files)
                listed.append((row.slim(), folder, why))
                if progress:
                    progress(len(listed), len(ids))
        columns = tuple(sorted(numbers))
        rows = [row for row, _, _ in listed]
        notes = {row.group.pk: f"cannot render: {why}" for row, _, why in listed if why}
        grades = io.StringIO()
        blobs = {row.group.pk: manifest[folder]["readme_blob"] for row, folder, _ in listed if folder}
        write_csv(grades, grades_rows(columns, rows, course_points(course), notes, blobs), bom=True)
        zip_add(archive, "grades.csv", grades.getvalue().encode("utf-8"), when=now)
        about = {"course": course.code, "groups": manifest}
        zip_add(archive, MANIFEST_FILE, json.dumps(about, indent=2).encode("utf-8"), when=now)
        index = render_to_string(
            "export/index.html",
            {
                "course": course,
                "groups": [(row, folder, why, grid_cells(row, columns)) for row, folder, why in listed],
                "numbers": columns,
                "legend": [(verdict, VERDICT_LABELS[verdict]) for verdict in Verdict],
                "exported_at": now,
                "time_zone": settings.TIME_ZONE,
            },
        )
        zip_add(archive, "index.html", index.encode("utf-8"), when=now)
    return ExportSummary(
        groups=len(rows),
        reports=sum(folder is not None for _, folder, _ in listed),
        figures=figure_count,
        no_report=sum(row.no_report for row in rows),
        late=sum(row.late for row in rows),
        stops=sum(bool(row.stops) for row in rows),
        problems=tuple(problems),
        unrendered=tuple(f"group {row.group.number}: {why}" for row, _, why in listed if why),
    )


def grid_cells(row: GroupOverview, numbers: tuple[int, ...]) -> list[QuestionVerdict]:
    """The row's verdict for each of the index's columns (chunks may have had fewer: a question not in its
    template is missing)."""
    by_number = {verdict.number: verdict for verdict in row.verdicts}
    return [
        by_number.get(n) or QuestionVerdict(n, Verdict.MISSING, f"Question {n} is not in this template")
        for n in numbers
    ]


def export_to_path(
    *, course: Course, target: Path, progress: Callable[[int, int], None] | None = None, workers: int | None = None
) -> ExportSummary:
    """course_export into `target`, written beside it and renamed over it when whole: a crash or a killed worker never
    leaves a half zip under the real name (the partial file is removed when Python gets the chance)."""
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with open(partial, "xb") as file:
            summary = course_export(course=course, out=file, progress=progress, workers=workers)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return summary


Pages = Callable[[], tuple[str, str]]  # gives a group's report.html and grading.html
Read = tuple[GroupOverview, dict[str, bytes], Pages | None, ReadmeFile | None]


def _manifest_entry(row: GroupOverview, readme: ReadmeFile) -> dict:
    """manifest.json's word on a group's README.md: the commit its report was last imported from ("" when not
    from a repo), the git blob id and sha256 of the README.md written, and whether it is the committed file."""
    label = row.report.source_label if row.report is not None else ""
    return {
        "group": row.group.number,
        "commit": label.removeprefix("repo@") if label.startswith("repo@") else "",
        "readme_blob": readme.blob_id,
        "readme_sha256": hashlib.sha256(readme.data).hexdigest(),
        "committed": readme.committed,
    }


def _read(
    course: Course, ids: list[int], pool: ThreadPoolExecutor | None, problems: list[str]
) -> Iterator[tuple[tuple[int, ...], list[Read]]]:
    """Chunk by chunk: the question numbers, then each group's row, figure files, pages and README.md (None: no
    report).

    With a pool, a chunk's pages are being rendered from the moment it is read.
    """
    for start in range(0, len(ids), CHUNK_GROUPS):
        overview = course_overview(course, group_ids=ids[start : start + CHUNK_GROUPS])
        figures = _figures([row.report.pk for row in overview.rows if row.report is not None])
        invited = invited_people(row.group.pk for row in overview.rows)
        committed = _committed([row.report.pk for row in overview.rows if row.report is not None])
        groups: list[Read] = []
        for row in overview.rows:
            if row.report is None or row.readme is None:
                groups.append((row, {}, None, None))
                continue
            files = _figure_files(row.group.number, figures.get(row.report.pk, []), problems)
            header = grading_header(row, invited.get(row.group.pk, ()))
            pages = _pages(pool, row.readme, grading_title(row.group), files, header)
            groups.append((row, files, pages, readme_file(row.readme, committed.get(row.report.pk))))
        yield overview.numbers, groups


def _pages(
    pool: ThreadPoolExecutor | None,
    readme: str,
    title: str,
    figures: dict[str, bytes],
    header: rendering.GradingHeader,
) -> Pages:
    """The group's two pages: submitted to the pool now, or rendered here when asked for. Asking raises what the
    render raised (rendering.RenderError past the budget)."""
    if pool is None:
        return lambda: rendering.hand_in_pages(readme, title, figures, header)
    return pool.submit(rendering.hand_in_pages, readme, title, figures, header).result


def _why(group: Group, error: Exception) -> str:
    """Why a group's pages could not be made, in one line ("nested 500 levels deep")."""
    if isinstance(error, rendering.RenderError):
        return str(error)
    logger.error("export: the pages of group %s failed", group.pk, exc_info=error)
    return failure_reason(error)


def _committed(report_ids: list[int]) -> dict[int, bytes]:
    """The README as committed of each report read from a repo, by report id (one query)."""
    rows = Report.objects.filter(pk__in=report_ids, source_bytes__isnull=False).values_list("pk", "source_bytes")
    return {pk: bytes(data) for pk, data in rows}  # a memoryview on PostgreSQL


def _figures(report_ids: list[int]) -> dict[int, list[Figure]]:
    by_report: dict[int, list[Figure]] = {}
    for figure in Figure.objects.filter(report_id__in=report_ids).order_by("report_id", "name"):
        by_report.setdefault(figure.report_id, []).append(figure)
    return by_report


def _figure_files(number: int, figures: list[Figure], problems: list[str]) -> dict[str, bytes]:
    """The bytes of a group's figures by name; one that cannot be read is named in `problems` and left out."""
    files: dict[str, bytes] = {}
    for figure in figures:
        if "/" in figure.name or "\\" in figure.name or figure.name.startswith("."):
            problems.append(f"group {number}: figure name {figure.name!r} is not a plain file name")
            continue
        try:
            files[figure.name] = figure.read_bytes()
        except OSError as error:
            problems.append(f"group {number}: figure {figure.name} could not be read ({error})")
    return files
