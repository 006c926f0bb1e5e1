"""Writes that touch several models, each in one transaction, and the reads that assemble a whole report."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import queue
import secrets
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F, Max, Min, Prefetch, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import formats, timezone

from . import scraping
from .engine import checks, figures, parsing, rendering
from .engine.roster import Member, Roster, RosterChanges, RosterError, parse_roster, split_name
from .models import (
    Answer,
    AnswerRevision,
    ChecklistItem,
    ChecklistMark,
    Course,
    Figure,
    Group,
    Invitation,
    Job,
    Membership,
    Question,
    Report,
    ReportTemplate,
    Scrape,
    Section,
)


class TemplateConflict(ValueError):
    """A template of that name is loaded already, with other text."""


MAX_POSITION = 2**15 - 1  # the most questions or checklist items a template may have: their positions are smallints


def _max_length(model: type[models.Model], field: str) -> int:
    return model._meta.get_field(field).max_length


def template_check_sizes(parsed: parsing.ParsedTemplate, source: str) -> None:
    """parsing.TemplateError, naming the line, for a parsed template the database cannot hold: a section title, a
    checklist heading or an item's module tags longer than its column, or more questions or checklist items than
    MAX_POSITION. Pure, so that a preview says so before anything is saved."""
    lines = source.split("\n")

    def line_of(text: str, below: int) -> int:
        """The (1-based) number of the last line up to line `below` that holds `text`."""
        return next((n for n in range(below, 0, -1) if text in lines[n - 1]), below)

    most = _max_length(Section, "title")
    if long := next((q for q in parsed.questions if len(q.section) > most), None):
        raise parsing.TemplateError(
            f"line {line_of(long.section, long.line)}: the section title has {len(long.section)} characters; "
            f"a section title may have at most {most}"
        )
    most = _max_length(ChecklistItem, "week")
    if item := next((i for i in parsed.checklist if len(i.week) > most), None):
        raise parsing.TemplateError(
            f"line {line_of(item.week, item.line)}: the checklist heading has {len(item.week)} characters; "
            f"a checklist heading may have at most {most}"
        )
    most = _max_length(ChecklistItem, "modules")
    if item := next((i for i in parsed.checklist if len("+".join(i.modules)) > most), None):
        raise parsing.TemplateError(
            f"line {item.line}: the module tags of this checklist item have {len('+'.join(item.modules))} "
            f"characters; they may have at most {most}"
        )
    for what, specs in (("questions", parsed.questions), ("checklist items", parsed.checklist)):
        if len(specs) > MAX_POSITION:
            raise parsing.TemplateError(
                f"line {specs[MAX_POSITION].line}: a template may have at most {MAX_POSITION} {what}"
            )


def template_load(*, name: str, source: str, checker: str | None = None) -> tuple[ReportTemplate, bool]:
    """Load a template version: (template, created). Loading the same text under the same name again is a no-op.

    Raises parsing.TemplateError (naming the line) for text that is not a report template or that the database
    cannot hold (or a name longer than its column), TemplateConflict when the name is taken by other text: a loaded
    version never changes under the reports that follow it.
    """
    if len(name) > _max_length(ReportTemplate, "name"):
        raise parsing.TemplateError(
            f"the name has {len(name)} characters; a template's name may have at most "
            f"{_max_length(ReportTemplate, 'name')}"
        )
    source = parsing.normalize_newlines(source)
    parsed = parsing.parse_template(source)
    template_check_sizes(parsed, source)
    content_hash = ReportTemplate.hash_source(source)
    existing = ReportTemplate.objects.filter(name=name).first()
    if existing is not None:
        if existing.content_hash != content_hash:
            raise TemplateConflict(
                f"a template named {name!r} is loaded already with other text; load this version under a new name"
            )
        return existing, False
    with transaction.atomic():
        template = ReportTemplate.objects.create(
            name=name, source=source, content_hash=content_hash, checker=checker or parsed.checker
        )
        sections = {
            title: Section.objects.create(template=template, position=position, title=title)
            for position, title in enumerate(parsed.sections)
        }
        Question.objects.bulk_create(
            Question(
                template=template,
                section=sections.get(q.section),
                number=q.number,
                prompt=q.prompt,
                placeholder=q.placeholder[:200],
                min_words=q.words[0] if q.words else None,
                max_words=q.words[1] if q.words else None,
                min_images=q.images[0] if q.images else None,
                max_images=q.images[1] if q.images else None,
            )
            for q in parsed.questions
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(template=template, position=i.index, week=i.week, text=i.text, modules="+".join(i.modules))
            for i in parsed.checklist
        )
    return template, True


def template_closest(text: str, templates: list[ReportTemplate] | None = None) -> tuple[ReportTemplate, int] | None:
    """The loaded template a report follows most closely, and how far it strays; ties go to the earliest loaded."""
    templates = list(ReportTemplate.objects.order_by("id")) if templates is None else templates
    return parsing.closest_template(text, [(t, t.outline()) for t in templates])  # type: ignore[return-value]


def group_get_or_create(*, course_code: str, number: int, template: ReportTemplate | None = None) -> Group:
    course, _ = Course.objects.get_or_create(code=course_code, defaults={"title": course_code, "template": template})
    if course.template is None and template is not None:
        course.template = template
        course.save(update_fields=["template"])
    group, _ = Group.objects.get_or_create(course=course, number=number)
    return group


@dataclass(frozen=True)
class ImportResult:
    report: Report
    changed: list[int]  # question numbers whose answer got a new version
    problems: tuple[parsing.Problem, ...]
    unplaced: tuple[parsing.Unplaced, ...]
    unrendered: dict[int, str] = field(default_factory=dict)  # question number -> why its answer is stored as typed


@transaction.atomic
def report_import(*, group: Group, text: str, template: ReportTemplate, label: str, user=None) -> ImportResult:
    """Store a report file as the group's report: every answer and mark, the raw text, and what deviates.

    An answer whose text changed gets a new version (with a revision labelled `label`); web edits stay in history.
    """
    text = parsing.normalize_newlines(text)
    label = label[: _max_length(Report, "source_label")]  # a long file name; AnswerRevision.source is as long
    parsed_template = template.parsed()
    parsed = parsing.parse_report(text, parsed_template)
    layout = None if parsed.layout == parsed_template.layout else parsing.layout_to_json(parsed.layout)
    report, _ = Report.objects.select_for_update().get_or_create(group=group, defaults={"template": template})
    report.template = template
    report.source = text
    report.source_label = label
    report.layout = layout
    report.problems = [[p.line, p.message] for p in parsed.problems]
    report.unplaced = [[u.line, u.text] for u in parsed.unplaced]
    report.imported_at = timezone.now()
    report.save()

    question_ids = dict(template.questions.values_list("number", "id"))
    existing = {
        a.question.number: a for a in report.answers.filter(question__template=template).select_related("question")
    }
    changed, new_answers, updated, unrendered = [], [], [], {}
    for number, text_ in parsed.answers.items():
        answer = existing.get(number)
        if answer is not None and answer.text == text_:
            continue
        html, problem = stored_answer_html(text_, group.pk, number)
        if problem:
            unrendered[number] = problem
        if answer is None:
            new_answers.append(
                Answer(
                    report=report, question_id=question_ids[number], text=text_, html=html, version=1, updated_by=user
                )
            )
        else:
            answer.text, answer.html, answer.version, answer.updated_by = text_, html, answer.version + 1, user
            updated.append(answer)
        changed.append(number)
    Answer.objects.bulk_create(new_answers)
    now = timezone.now()
    for answer in updated:  # a query per answer: bulk_update's CASE expressions cost ten times more to build
        answer.updated_at = now
        Answer.objects.filter(pk=answer.pk).update(
            text=answer.text, html=answer.html, version=answer.version, updated_by=user, updated_at=now
        )
    AnswerRevision.objects.bulk_create(
        AnswerRevision(answer=a, version=a.version, text=a.text, author=user, source=label)
        for a in new_answers + updated
    )

    item_ids = dict(template.checklist.values_list("position", "id"))
    marks = {m.item.position: m for m in report.marks.filter(item__template=template).select_related("item")}
    new_marks, changed_marks = [], []
    for position, item_id in item_ids.items():
        raw = parsed.marks.get(position, " ")
        mark = marks.get(position)
        if mark is None:
            new_marks.append(
                ChecklistMark(
                    report=report, item_id=item_id, mark=raw, checked=parsing.is_checked(raw), updated_by=user
                )
            )
        elif mark.mark != raw:
            mark.mark, mark.checked, mark.updated_by, mark.updated_at = raw, parsing.is_checked(raw), user, now
            changed_marks.append(mark)
    ChecklistMark.objects.bulk_create(new_marks)
    by_mark: dict[str, list[int]] = {}
    for mark in changed_marks:  # a query per distinct mark (" ", "x", "X"...), not per item
        by_mark.setdefault(mark.mark, []).append(mark.pk)
    for raw, ids in by_mark.items():
        ChecklistMark.objects.filter(pk__in=ids).update(
            mark=raw, checked=parsing.is_checked(raw), updated_by=user, updated_at=now
        )
    return ImportResult(report, changed, parsed.problems, parsed.unplaced, unrendered)


# Scraping group repos. The fetches run in threads (git does the waiting, in subprocesses; Pillow checks figures
# without holding the GIL) and touch no database; every write happens in the calling thread, one transaction a group.
# Whatever goes wrong with one group is that group's status; the other groups go on.

logger = logging.getLogger(__name__)

_SCRAPE_STATUS = {
    scraping.RepoRefused: Scrape.Status.REFUSED,
    scraping.RepoUnreachable: Scrape.Status.UNREACHABLE,
    scraping.RepoEmpty: Scrape.Status.EMPTY,
}
READ_FAILED = "the repo could not be read: {why}"
IMPORT_FAILED = "the report could not be imported: {why}"
READ_TOO_LONG = "reading the repo took longer than {seconds} s (setting JOB_GROUP_SECONDS); it was given up"
IMPORT_TOO_LONG = (
    "importing the report took longer than {seconds} s (setting JOB_GROUP_SECONDS); nothing of it was kept"
)
SCRAPE_UNRENDERED = "question {number} cannot be rendered ({why}) and is stored as typed"


class ImportTooLong(Exception):
    """A group's import ran past its budget; its transaction is rolled back."""


def failure_reason(error: BaseException) -> str:
    """An exception as one line for people, at most 300 characters.

    >>> failure_reason(RecursionError("maximum recursion depth exceeded")), failure_reason(KeyError(7))
    ('it is nested too deeply to read', 'KeyError: 7')
    """
    if isinstance(error, rendering.RenderError):
        why = f"it cannot be rendered ({error})"
    elif isinstance(error, RecursionError):
        why = "it is nested too deeply to read"
    elif isinstance(error, MemoryError):
        why = "it needs more memory than there is"
    elif isinstance(error, DatabaseError):
        why = f"the database refused it ({error})"
    else:
        why = f"{type(error).__name__}: {error}"
    return " ".join(why.split())[:300]


@dataclass(frozen=True)
class RepoRead:
    """What `repo_fetch` read of a repo: the commit and its files, the figures checked to be images we keep."""

    fetched: scraping.Fetched
    images: dict[str, tuple[bytes, figures.ImageInfo]]  # name in reports/figures/ -> (bytes, what they are)
    skipped: list[tuple[str, str]]  # (path, reason) of the files not taken, figures that are not images included


def repo_fetch(*, url: str, before: datetime | None) -> RepoRead | scraping.RepoError:
    """What a repo's reports/ holds at its head (or at the last commit before `before`), or why it could not be read.

    Runs git in a fresh temporary folder, removed afterwards, and decodes every figure; no database access, so it
    may run in any thread.
    """
    try:
        with tempfile.TemporaryDirectory(prefix="scrape-") as workdir:
            fetched = scraping.fetch_reports(
                url,
                allowed=settings.SCRAPE_ALLOWED_URLS,
                before=before,
                workdir=Path(workdir),
                timeout=settings.SCRAPE_TIMEOUT,
                max_bytes=settings.SCRAPE_MAX_BYTES,
                max_report_bytes=settings.REPORT_MAX_BYTES,
                max_figure_bytes=settings.FIGURE_MAX_BYTES,
                max_figures=settings.SCRAPE_MAX_FIGURES,
            )
    except scraping.RepoError as e:
        return e
    images, skipped = {}, list(fetched.skipped)
    for name, data in sorted(fetched.figures.items()):
        try:
            info = _figure_inspect(data)  # the repo's bytes are kept as they are: the hand-in is the repo's
        except figures.FigureRejected as e:
            skipped.append((f"{scraping.FIGURES}{name}", str(e)))
        else:
            images[name] = (data, info)
    return RepoRead(fetched, images, skipped)


def _scrape_before(group: Group, at_deadline: bool) -> datetime | None:
    """The date a scrape reads the repo at (None: its head); ValueError when the scrape cannot be done at all."""
    if group.course.template_id is None and not Report.objects.filter(group=group).exists():
        raise ValueError(f"course {group.course.code} has no report template; load one first")
    if not at_deadline:
        return None
    if group.deadline is None:
        raise ValueError(f"group {group.number} has no deadline (neither the course nor the group has one)")
    return group.deadline


def group_scrape(
    *,
    group: Group,
    at_deadline: bool,
    job: Job | None = None,
    fetched: RepoRead | scraping.RepoError | BaseException | None = None,
    seconds: float | None = None,
) -> Scrape:
    """Read the group's repo (or take what `repo_fetch` read already) and import its report and figures.

    The Scrape records what came of it and becomes `group.last_scrape`, in the same transaction as the import, so a
    scrape that dies half-way leaves nothing half-imported. Answers that changed get versions labelled
    `repo@<sha>`; web edits stay in history. A commit imported already creates nothing new (`unchanged`).

    Nothing that goes wrong with this group's report raises: an exception (`fetched` may be the one its read raised)
    becomes the status "cannot import" with the reason, and an import that takes longer than `seconds` (default
    JOB_GROUP_SECONDS) is rolled back as "took too long". Only ValueError (the scrape cannot be done at all, before
    anything is read) and a database that fails again while the failure is recorded are raised.
    """
    before = _scrape_before(group, at_deadline)
    seconds = settings.JOB_GROUP_SECONDS if seconds is None else seconds
    if fetched is None:
        try:
            fetched = repo_fetch(url=group.repo_url, before=before)
        except Exception as error:
            fetched = error
    scrape = Scrape(group=group, job=job, repo_url=group.repo_url, at_deadline=at_deadline, fetched_at=timezone.now())
    if isinstance(fetched, BaseException) and not isinstance(fetched, scraping.RepoError):
        logger.error("group %s: reading its repo failed", group.pk, exc_info=fetched)
        return _scrape_record(scrape, Scrape.Status.FAILED, READ_FAILED.format(why=failure_reason(fetched)))
    deadline = time.monotonic() + seconds
    try:
        with transaction.atomic():
            _lock_timeout(seconds)
            if isinstance(fetched, scraping.RepoError):
                scrape.status, scrape.message = _SCRAPE_STATUS[type(fetched)], str(fetched)
            else:
                _scrape_import(scrape, fetched)
            if time.monotonic() > deadline:
                raise ImportTooLong
            scrape.save()
            group.last_scrape = scrape
            group.save(update_fields=["last_scrape"])
    except Exception as error:
        failed = Scrape(group=group, job=job, repo_url=group.repo_url, at_deadline=at_deadline)
        failed.fetched_at, failed.commit_sha, failed.commit_at = scrape.fetched_at, scrape.commit_sha, scrape.commit_at
        failed.skipped = scrape.skipped
        if isinstance(error, ImportTooLong) or time.monotonic() > deadline:
            return _scrape_record(failed, Scrape.Status.TOO_LONG, IMPORT_TOO_LONG.format(seconds=f"{seconds:g}"))
        logger.error("group %s: importing its report failed", group.pk, exc_info=error)
        return _scrape_record(failed, Scrape.Status.FAILED, IMPORT_FAILED.format(why=failure_reason(error)))
    return scrape


def _scrape_record(scrape: Scrape, status: str, message: str) -> Scrape:
    """Save a scrape that imported nothing, with its status and why, as the group's last scrape."""
    scrape.status, scrape.message = status, message
    with transaction.atomic():
        scrape.save()
        scrape.group.last_scrape = scrape
        scrape.group.save(update_fields=["last_scrape"])
    return scrape


def _lock_timeout(seconds: float) -> None:
    """On PostgreSQL, a row lock this transaction waits for longer than `seconds` raises (SQLite gives up after its
    own timeout): a transaction left open by a stuck worker must not hold up every scrape of the group after it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = {max(1, int(seconds * 1000))}")


def _scrape_import(scrape: Scrape, read: RepoRead) -> None:
    """Import what was read into the scrape's group and fill in the scrape (not saved yet)."""
    fetched = read.fetched
    scrape.commit_sha, scrape.commit_at = fetched.commit_sha, fetched.commit_at
    scrape.skipped = [list(s) for s in read.skipped]
    text, why = None, dict(fetched.skipped).get(scraping.README)
    if fetched.readme is not None:
        try:
            text = parsing.decode_text(fetched.readme, what="report")
        except ValueError as e:
            why = str(e)
    if text is None:
        scrape.status = Scrape.Status.NO_REPORT
        scrape.message = f"reports/README.md was not read: {why}" if why else "the commit has no reports/README.md"
        return
    label = f"repo@{fetched.commit_sha}"
    # Locked, so that two scrapes of one group (a job run again while its stopped worker comes back) take turns.
    report = Report.objects.select_related("template").select_for_update(of=("self",)).filter(group=scrape.group)
    report = report.first()
    notes = []
    if report is not None and report.source_label == label:
        scrape.unchanged, problems = True, report.problems  # imported already: nothing new, not even a figure
    else:
        template = report.template if report is not None else scrape.group.course.template
        result = report_import(group=scrape.group, text=text, template=template, label=label)
        scrape.changed, problems = result.changed, [[p.line, p.message] for p in result.problems]
        notes = [SCRAPE_UNRENDERED.format(number=n, why=why) for n, why in sorted(result.unrendered.items())]
        scrape.skipped += [list(s) for s in _scrape_figures(result.report, read.images)]
    scrape.problems = problems
    scrape.status = Scrape.Status.PROBLEMS if problems else Scrape.Status.OK
    if problems:
        places = "1 place" if len(problems) == 1 else f"{len(problems)} places"
        notes.insert(0, f"the report deviates from its template in {places}")
    scrape.message = "; ".join(notes)


FIGURES_FULL = "the report has {count} figures already, the most a scrape fills it up to (setting SCRAPE_MAX_FIGURES)"
FIGURE_CASE_CLASH = "the report has a figure {other} already, a name that differs only in upper and lower case"


def _scrape_figures(report: Report, images: dict[str, tuple[bytes, figures.ImageInfo]]) -> list[tuple[str, str]]:
    """Store the repo's figures under their names: new ones added, changed ones replaced, others kept as they are.

    A new figure is left out (and returned with the reason) when the report holds SCRAPE_MAX_FIGURES figures
    already (figures gone from the repo stay), or one whose name differs from it only in case."""
    stored = {f.name: f for f in report.figures.all()}
    names = {figures.name_key(name): name for name in stored}
    skipped = []
    for name, (data, info) in images.items():
        figure = stored.get(name)
        if figure is None:
            if (other := names.get(figures.name_key(name))) is not None:
                skipped.append((f"{scraping.FIGURES}{name}", FIGURE_CASE_CLASH.format(other=other)))
                continue
            if len(stored) >= settings.SCRAPE_MAX_FIGURES:
                skipped.append((f"{scraping.FIGURES}{name}", FIGURES_FULL.format(count=len(stored))))
                continue
        digest = hashlib.sha256(data).hexdigest()
        if figure is None or figure.sha256 != digest:
            figure = _figure_store(
                report=report, name=name, data=data, info=info, digest=digest, user=None, figure=figure
            )
            stored[name], names[figures.name_key(name)] = figure, name
    return skipped


def course_scrape(
    *,
    groups: Iterable[Group],
    at_deadline: bool,
    workers: int,
    job: Job | None = None,
    progress: Callable[[Scrape], None] | None = None,
    working_on: Callable[[Group], None] | None = None,
    seconds: float | None = None,
) -> list[Scrape]:
    """Scrape every group: `workers` fetches at a time in threads; each group's import, in this thread, as soon as its
    fetch is done (`working_on(group)` as it begins), then `progress(scrape)`. Returns the scrapes in group order.

    Each group's read and its import may each take `seconds` (default JOB_GROUP_SECONDS): a read still running then
    is given up ("took too long"; its thread ends with git's own timeout, unheeded), as is an import (rolled back).
    ValueError, before anything is fetched, when a group cannot be scraped at all (no template, no deadline). At most
    2 x `workers` fetched repos wait in memory for their import.
    """
    groups = list(groups)
    seconds = settings.JOB_GROUP_SECONDS if seconds is None else seconds
    workers = max(1, workers)
    plans = [(group, _scrape_before(group, at_deadline)) for group in reversed(groups)]
    finished: queue.Queue[tuple[_Fetch, RepoRead | scraping.RepoError | BaseException]] = queue.Queue()
    running: dict[int, _Fetch] = {}  # by group pk: reading, not given up
    fetched: list[tuple[Group, RepoRead | scraping.RepoError | BaseException]] = []  # waiting for their import
    scrapes: dict[int, Scrape] = {}

    def record(scrape: Scrape) -> None:
        scrapes[scrape.group.pk] = scrape
        if progress is not None:
            progress(scrape)

    while plans or running or fetched:
        while plans and len(running) < workers and len(running) + len(fetched) < 2 * workers:
            read = _Fetch(*plans.pop(), finished)
            running[read.group.pk] = read
        while True:  # take every read that is done
            try:
                read, result = finished.get_nowait()
            except queue.Empty:
                break
            if running.pop(read.group.pk, None) is read:
                fetched.append((read.group, result))
        for read in [read for read in running.values() if read.started + seconds < time.monotonic()]:
            del running[read.group.pk]
            scrape = Scrape(group=read.group, job=job, repo_url=read.group.repo_url, at_deadline=at_deadline)
            scrape.fetched_at = timezone.now()
            record(_scrape_record(scrape, Scrape.Status.TOO_LONG, READ_TOO_LONG.format(seconds=f"{seconds:g}")))
        if fetched:
            group, result = fetched.pop(0)
            if working_on is not None:
                working_on(group)
            record(group_scrape(group=group, at_deadline=at_deadline, job=job, fetched=result, seconds=seconds))
        elif running:  # nothing to import: wait for a read to end, or for the first one to run out of time
            first = min(read.started for read in running.values())
            try:
                read, result = finished.get(timeout=max(0.0, first + seconds - time.monotonic()) + 0.01)
            except queue.Empty:
                continue
            if running.pop(read.group.pk, None) is read:
                fetched.append((read.group, result))
    return [scrapes[group.pk] for group in groups]


class _Fetch:
    """`repo_fetch` of one group in a daemon thread of its own, which puts (itself, what it read) on `finished`.

    A thread of its own, not a pool's: one given up may go on (until git's timeout), and must not hold up the rest.
    What it raised is what it read, so that it becomes the group's status.
    """

    def __init__(self, group: Group, before: datetime | None, finished: queue.Queue) -> None:
        self.group, self.started = group, time.monotonic()
        threading.Thread(
            target=self._run, args=(group.repo_url, before, finished), name=f"scrape-{group.number}", daemon=True
        ).start()

    def _run(self, url: str, before: datetime | None, finished: queue.Queue) -> None:
        try:
            result: RepoRead | scraping.RepoError | BaseException = repo_fetch(url=url, before=before)
        except Exception as error:
            result = error
        finished.put((self, result))


def report_markdown(report: Report) -> str:
    """The group's README.md: the template's text (or the imported file's) with the current answers and marks."""
    answers = dict(
        Answer.objects.filter(report=report, question__template_id=report.template_id).values_list(
            "question__number", "text"
        )
    )
    marks = dict(
        ChecklistMark.objects.filter(report=report, item__template_id=report.template_id).values_list(
            "item__position", "mark"
        )
    )
    return parsing.render_layout(report.layout_parts(), answers, marks)


# Check results by (README digest, template text, checker, rules): a result depends on nothing else, so it never goes
# stale; the dashboard re-checks 150 unchanged READMEs on every view. Bounded: cleared when full.
_checked: dict[tuple, checks.CheckResult] = {}
CHECKED_MAX = 4096


def check_markdown(text: str, template: ReportTemplate, rules: list[checks.Rule] | None = None) -> checks.CheckResult:
    """Check a README against a template the way the course checker of that template's era does."""
    rules = tuple(template.rules() if rules is None else rules)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()
    key = (digest, template.content_hash, template.checker, rules)
    result = _checked.get(key)
    if result is None:
        result = checks.check_text(
            text, list(rules), checks.CHECKERS[template.checker], lambda: parsing.parse_report(text, template.parsed())
        )
        if len(_checked) >= CHECKED_MAX:
            _checked.clear()
        _checked[key] = result
    return result


def report_check(report: Report) -> checks.CheckResult:
    return check_markdown(report_markdown(report), report.template)


def report_figures(report: Report) -> dict[str, bytes]:
    """The report's figure files by name, as they go into reports/figures/."""
    result = {}
    for figure in report.figures.all():
        with figure.file.open("rb") as f:
            result[figure.name] = f.read()
    return result


def grading_title(group: Group) -> str:
    """'C1 group 7 (Otters)': the title of a group's grading page."""
    return f"{group.course.code} group {group.number}" + (f" ({group.name})" if group.name else "")


def report_grading_html(report: Report, figures: dict[str, bytes] | None = None) -> str:
    """The grading page of the report's hand-in HTML; rendering.RenderError when that cannot be made (no substitute)."""
    figures = report_figures(report) if figures is None else figures
    return rendering.grading_html(report_markdown(report), title=grading_title(report.group), figures=figures)


def report_zip(report: Report) -> bytes:
    """The group's `reports/` folder, ready to unpack into the repo and commit: README.md and figures/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("reports/README.md", report_markdown(report))
        for name, data in report_figures(report).items():
            archive.writestr(f"reports/figures/{name}", data, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


# The roster: groups and members from a CSV file (roster.py reads it), or a group signing itself up and inviting its
# members. Accounts a roster makes have no usable password: their owners choose one with the password-reset link
# (forms.PasswordSetupForm); an invited person without an account chooses one when accepting.


def roster_read(*, course: Course, data: bytes) -> Roster:
    """A roster file checked against the course's group sizes and the repo allow-list; RosterError otherwise."""
    return parse_roster(
        data,
        min_size=course.min_group_size,
        max_size=course.max_group_size,
        allowed=settings.SCRAPE_ALLOWED_URLS,
        email_ok=_is_email,
    )


def _is_email(value: str) -> bool:
    """Django's judgement of an e-mail address, the one every form of the site applies."""
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _users_by_email(emails: set[str]) -> tuple[dict[str, AbstractBaseUser], dict[str, list[str]]]:
    """The accounts of lowercased e-mail addresses: the user named by the address, else the one user who has it as
    e-mail; and the addresses that more than one account has (with their user names), which we refuse to guess."""
    candidates = (
        get_user_model()
        .objects.annotate(username_lower=Lower("username"), email_lower=Lower("email"))
        .filter(Q(username_lower__in=emails) | Q(email_lower__in=emails))
        .order_by("pk")
    )
    by_username: dict[str, AbstractBaseUser] = {}
    by_email: dict[str, list[AbstractBaseUser]] = {}
    for user in candidates:
        if user.username_lower in emails:
            by_username.setdefault(user.username_lower, user)
        if user.email_lower in emails:
            by_email.setdefault(user.email_lower, []).append(user)
    found, ambiguous = {}, {}
    for email in emails:
        if email in by_username:
            found[email] = by_username[email]
        elif len(by_email.get(email, [])) == 1:
            found[email] = by_email[email][0]
        elif email in by_email:
            ambiguous[email] = [user.get_username() for user in by_email[email]]
    return found, ambiguous


def _ambiguous(email: str, usernames: list[str]) -> str:
    return f"the accounts {', '.join(usernames)} all have the e-mail {email}; merge them in the admin first"


def _user_create(member: Member) -> AbstractBaseUser:
    """An account named by the e-mail address, without a usable password."""
    first, last = split_name(member.name)
    return get_user_model().objects.create_user(
        member.email, email=member.email, password=None, first_name=first, last_name=last
    )


def _member_label(user) -> str:
    return user.email or user.get_username()


def roster_import(
    *, course: Course, roster: Roster, dry_run: bool = False, remove_missing: bool = False
) -> RosterChanges:
    """Make the course's groups and members what the roster says, and report what that changed.

    Missing groups, accounts and memberships are created; repo URLs and study numbers the file gives are set (an empty
    cell keeps what is stored; names are set on new accounts only). Members in the site but not in the file are
    listed, and removed only with `remove_missing`. Importing the same file again changes nothing. All or nothing:
    RosterError (accounts that share an e-mail) writes nothing, and a dry run rolls back what it did.
    """
    with transaction.atomic():
        list(Course.objects.select_for_update().filter(pk=course.pk))  # one import or sign-up at a time per course
        changes = _roster_apply(course, roster, remove_missing)
        if dry_run:
            transaction.set_rollback(True)
    return changes


def _roster_apply(course: Course, roster: Roster, remove_missing: bool) -> RosterChanges:
    changes = RosterChanges(removed=remove_missing)
    members = [member for entry in roster.groups for member in entry.members]
    users, ambiguous = _users_by_email({member.email for member in members})
    if ambiguous:
        raise RosterError([(m.line, _ambiguous(m.email, ambiguous[m.email])) for m in members if m.email in ambiguous])
    groups = {group.number: group for group in course.groups.all()}
    memberships = {
        (membership.group.number, membership.user_id): membership
        for membership in Membership.objects.filter(group__course=course).select_related("group", "user")
    }
    wanted = set()
    for entry in roster.groups:
        group = groups.get(entry.number)
        if group is None:
            group = Group.objects.create(course=course, number=entry.number, repo_url=entry.repo_url)
            changes.groups_created.append(entry.number)
        elif entry.repo_url and entry.repo_url != group.repo_url:
            changes.repos_changed.append((entry.number, group.repo_url, entry.repo_url))
            group.repo_url = entry.repo_url
            group.save(update_fields=["repo_url"])
        for member in entry.members:
            user = users.get(member.email)
            if user is None:
                user = users[member.email] = _user_create(member)
                changes.users_created.append(member.email)
            wanted.add((entry.number, user.pk))
            membership = memberships.get((entry.number, user.pk))
            if membership is None:
                Membership.objects.create(user=user, group=group, study_number=member.study_number)
                changes.members_added.append((entry.number, member.email))
            elif member.study_number and member.study_number != membership.study_number:
                changes.study_numbers_changed.append(
                    (entry.number, member.email, membership.study_number, member.study_number)
                )
                membership.study_number = member.study_number
                membership.save(update_fields=["study_number"])
    missing = sorted(
        (membership for key, membership in memberships.items() if key not in wanted),
        key=lambda membership: (membership.group.number, _member_label(membership.user).lower()),
    )
    changes.missing = [(membership.group.number, _member_label(membership.user)) for membership in missing]
    if remove_missing and missing:
        Membership.objects.filter(pk__in=[membership.pk for membership in missing]).delete()
    return changes


def roster_rows(course: Course) -> list[list[str]]:
    """The course's roster as student-list rows (roster.LIST_HEADER), one per member, by group then e-mail; a group
    without members is a row with empty student cells. Two queries. Importing the rows back changes nothing."""
    memberships = Prefetch("memberships", queryset=Membership.objects.select_related("user"))
    rows = []
    for group in course.groups.order_by("number").prefetch_related(memberships):
        members = sorted(group.memberships.all(), key=lambda membership: _member_label(membership.user).lower())
        for membership in members:
            user = membership.user
            rows.append(
                [str(group.number), membership.study_number, user.get_full_name(), _member_label(user), group.repo_url]
            )
        if not members:
            rows.append([str(group.number), "", "", "", group.repo_url])
    return rows


class SignupRefused(ValueError):
    """Why a group can't sign up: (what it is about: a member's e-mail, "repo_url" or None, message) pairs."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        self.problems = problems
        super().__init__(" ".join(message for _, message in problems))


class InvitationRefused(ValueError):
    """Why an invitation can't be accepted; said only to the person who has its link. Nothing was changed."""


SIGNUP_CLOSED = "The hand-in closed on {when}; ask the course staff to add your group."
SIGNUP_SIZE = "A group has {low} to {high} members; you entered {count}."
SIGNUP_REPO_TAKEN = "This repo is the repo of group {number} already."
SIGNUP_YOU_TAKEN = "You are already in group {number} of this course."
INVITATION_GONE = (
    "This invitation is not valid: it was accepted already, it expired, or the link is incomplete. "
    "Ask your course's teachers to add you to the group."
)
INVITATION_TAKEN = (
    "You are already in group {number} of {course}, so you were not added to group {invited}. "
    "If that is wrong, ask your course's teachers."
)
INVITATION_FULL = "Group {number} has {size} members already, the most a group of {course} may have."
INVITATION_SEVERAL = (
    "Several accounts have the e-mail {email}; ask your course's teachers to merge them, then open this link again."
)
INVITATION_LOG_IN = "This invitation is for {email}: log in with that account to accept it."


def course_for_join_code(code: str) -> Course | None:
    """The course whose join code this is, or None. Codes are compared in constant time; an empty one never matches."""
    code = code.strip()
    if not code:
        return None
    for course in Course.objects.exclude(join_code="").order_by("pk"):
        if hmac.compare_digest(course.join_code.encode(), code.encode()):
            return course
    return None


def join_sizes() -> tuple[int, int]:
    """The smallest and the largest group size among the courses that take sign-ups (the defaults when none do)."""
    sizes = Course.objects.exclude(join_code="").aggregate(low=Min("min_group_size"), high=Max("max_group_size"))
    return (
        sizes["low"] or Course._meta.get_field("min_group_size").default,
        sizes["high"] or Course._meta.get_field("max_group_size").default,
    )


def _repo_key(url: str) -> str:
    """Two ways of writing one repo compare equal: https://github.com/A/b.git/ == https://github.com/a/b."""
    return url.strip().rstrip("/").removesuffix(".git").lower()


@dataclass(frozen=True)
class Signup:
    group: Group
    joined: bool  # the logged-in submitter is a member already
    invited: list[tuple[Invitation, str]]  # each invitation with its link's token (only the token's hash is stored)


def _submitter_row(submitter: AbstractBaseUser | None, members: list[Member]) -> Member | None:
    """The row of `members` that names the logged-in submitter (by e-mail, or a user name that is one), if any."""
    if submitter is None:
        return None
    names = {value.lower() for value in (getattr(submitter, "email", ""), submitter.get_username()) if value}
    return next((member for member in members if member.email in names), None)


def _invitation_create(group: Group, member: Member, invited_by: AbstractBaseUser | None) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        group=group,
        email=member.email,
        name=member.name,
        token_hash=Invitation.hash_token(token),
        invited_by=invited_by,
    )
    return invitation, token


def group_signup(
    *, course: Course, name: str, repo_url: str, members: list[Member], submitter: AbstractBaseUser | None = None
) -> Signup:
    """A group signs itself up: the group (next free number) and an invitation per member named; one transaction.

    Only the logged-in `submitter`, when a row names them, becomes a member at once. Everyone else is invited and
    joins by accepting (invitation_accept): a sign-up never makes anyone else a member, and nothing here depends on
    whether an address has an account or a group. Refused (SignupRefused, nothing written) when the hand-in is closed,
    the rows are outside the course's group sizes, the submitter is in a group of the course already, or another
    group of the course has the repo. `repo_url` was checked by repo_urls.check_url.
    """
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=course.pk)  # numbers are handed out one at a time
        problems: list[tuple[str | None, str]] = []
        if course.deadline and timezone.now() >= course.deadline:
            when = formats.date_format(timezone.localtime(course.deadline), "DATETIME_FORMAT")
            raise SignupRefused([(None, SIGNUP_CLOSED.format(when=when))])
        low, high = course.min_group_size, course.max_group_size
        if not low <= len(members) <= high:
            problems.append((None, SIGNUP_SIZE.format(low=low, high=high, count=len(members))))
        me = _submitter_row(submitter, members)
        if me is not None:
            mine = Membership.objects.filter(group__course=course, user=submitter).values_list("group__number")
            if taken := mine.first():
                problems.append((me.email, SIGNUP_YOU_TAKEN.format(number=taken[0])))
        repos = list(course.groups.values_list("number", "repo_url"))
        other = next((n for n, url in repos if url and _repo_key(url) == _repo_key(repo_url)), None)
        if other is not None:
            problems.append(("repo_url", SIGNUP_REPO_TAKEN.format(number=other)))
        if problems:
            raise SignupRefused(problems)
        number = max((n for n, _ in repos), default=0) + 1
        group = Group.objects.create(course=course, number=number, name=name, repo_url=repo_url)
        if me is not None:
            Membership.objects.create(user=submitter, group=group)
        invited = [_invitation_create(group, member, submitter) for member in members if member is not me]
    return Signup(group, me is not None, invited)


def invitation_find(token: str) -> Invitation | None:
    """The pending invitation of a link's token, or None (unknown, accepted already or expired)."""
    if not 20 <= len(token) <= 100:
        return None
    pending = Invitation.objects.pending().select_related("group__course")
    return pending.filter(token_hash=Invitation.hash_token(token)).first()


def invitation_account(invitation: Invitation) -> AbstractBaseUser | None:
    """The account of the invited address (named by it, else the one account with it as e-mail), or None.
    InvitationRefused when several accounts have it."""
    found, ambiguous = _users_by_email({invitation.email})
    if ambiguous:
        raise InvitationRefused(INVITATION_SEVERAL.format(email=invitation.email))
    return found.get(invitation.email)


def invitation_new_account(invitation: Invitation) -> AbstractBaseUser:
    """The account accepting would make for an address without one (unsaved: for checking a password against it)."""
    first, last = split_name(invitation.name)
    return get_user_model()(username=invitation.email, email=invitation.email, first_name=first, last_name=last)


def invitation_accept(
    *, invitation: Invitation, user: AbstractBaseUser | None = None, password: str | None = None
) -> AbstractBaseUser:
    """The invited person joins the group; their account. One transaction: refused (InvitationRefused), nothing
    changes. Either `user` is logged in as the invited address's account, or `password` is chosen through the link
    for an address whose account has no password yet, or none (then the account is made, named by the address).

    Refused when the invitation is no longer pending, the person is in another group of the course by now (said to
    them only), or the group is full (members of the course's largest size already).
    """
    with transaction.atomic():
        # One sign-up or acceptance at a time per course, so that nobody ends up in two of its groups.
        course = Course.objects.select_for_update().get(pk=invitation.group.course_id)
        invitation = Invitation.objects.pending().select_for_update().filter(pk=invitation.pk).first()
        if invitation is None:
            raise InvitationRefused(INVITATION_GONE)
        account = invitation_account(invitation)
        if password is None:
            if user is None or account is None or account.pk != user.pk:
                raise InvitationRefused(INVITATION_LOG_IN.format(email=invitation.email))
        else:
            if account is not None and account.has_usable_password():
                raise InvitationRefused(INVITATION_LOG_IN.format(email=invitation.email))
            account = account or invitation_new_account(invitation)
            account.set_password(password)
            account.save()
        group = Group.objects.get(pk=invitation.group_id)
        taken = Membership.objects.filter(group__course=course, user=account).select_related("group").first()
        if taken is not None and taken.group_id != group.pk:
            raise InvitationRefused(
                INVITATION_TAKEN.format(number=taken.group.number, course=course.code, invited=group.number)
            )
        if taken is None:
            size = group.memberships.count()
            if size >= course.max_group_size:
                raise InvitationRefused(INVITATION_FULL.format(number=group.number, size=size, course=course.code))
            Membership.objects.create(user=account, group=group)
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return account


def invitations_for(*, email: str) -> list[Invitation]:
    """The pending invitations of an address, e.g. to mail them again to someone who lost them."""
    pending = Invitation.objects.pending().select_related("group__course")
    return list(pending.filter(email=email.strip().lower()).order_by("pk"))


def invitation_renew(*, invitation: Invitation) -> str:
    """A new token for the invitation's link, to mail it again; the old link stops working."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = Invitation.hash_token(token)
    invitation.save(update_fields=["token_hash"])
    return token


def group_people(group: Group) -> tuple[list[AbstractBaseUser], list[Invitation]]:
    """A group's members (in the order they joined) and the people invited who have not accepted yet; two queries."""
    members = [m.user for m in group.memberships.select_related("user").order_by("pk")]
    return members, list(group.invitations.pending().order_by("email"))


# The student pages: every write below refuses a closed hand-in, and none of them can overwrite newer work.


class DeadlinePassed(Exception):
    """The group's hand-in is closed; nothing may change any more."""


class AnswerConflict(Exception):
    """A save based on an old version: a teammate saved a newer one. The attempt is kept as a conflict revision."""

    def __init__(self, answer: Answer, attempt: AnswerRevision):
        super().__init__(f"Question {answer.question.number} was saved by someone else in the meantime")
        self.answer = answer
        self.attempt = attempt


def closed_message(group: Group) -> str:
    when = formats.date_format(timezone.localtime(group.deadline), "DATETIME_FORMAT")
    return f"The hand-in closed on {when}; the report can no longer be changed."


def _ensure_open(group: Group) -> None:
    if not group.is_open():
        raise DeadlinePassed(closed_message(group))


def answer_html(text: str, group_id: int) -> str:
    """How our pages show an answer: sanitized, its figures served by the figure view of its group.

    Raises rendering.RenderError; `stored_answer_html` falls back instead.
    """
    return rendering.answer_html(text, figure_url=lambda name: reverse("figure", args=[group_id, name]))


UNRENDERED = "Question {number} cannot be rendered: {why}"


def stored_answer_html(text: str, group_id: int, number: int) -> tuple[str, str | None]:
    """The html stored for an answer and None; or, for text that cannot be rendered, the text escaped under a note
    that says why, and why ("nested 500 levels deep"). Either way the text itself is saved: no word is lost."""
    try:
        return answer_html(text, group_id), None
    except rendering.RenderError as error:
        return rendering.unrendered_html(text, str(error), what=f"Question {number}"), str(error)


def report_for_group(group: Group) -> Report | None:
    """The group's report, started on the course's template the first time; None while the course has no template."""
    try:
        return group.report
    except Report.DoesNotExist:
        if group.course.template_id is None:
            return None
    report, _ = Report.objects.get_or_create(group=group, defaults={"template_id": group.course.template_id})
    return report


def answer_save(
    *, report: Report, question: Question, text: str, base_version: int, user, source: str = "web"
) -> Answer:
    """Save `text` as the next version of the answer, if `base_version` is still the current one.

    When a teammate saved a newer version since, nothing is overwritten: the text is kept as a conflict revision and
    AnswerConflict carries the current answer, so that the student can merge. Saving the text already there is a no-op.
    The answer returned has `render_problem`: why its text could not be rendered (its html then shows it as typed),
    or None.
    """
    _ensure_open(report.group)
    html, problem = stored_answer_html(text, report.group_id, question.number)
    with transaction.atomic():
        answer, _ = Answer.objects.get_or_create(report=report, question=question)
        if answer.version == base_version and answer.text == text:
            answer.render_problem = problem
            return answer
        saved = Answer.objects.filter(pk=answer.pk, version=base_version).update(
            text=text, html=html, version=base_version + 1, updated_by=user, updated_at=timezone.now()
        )
        if saved:
            AnswerRevision.objects.create(
                answer_id=answer.pk, version=base_version + 1, text=text, author=user, source=source
            )
    current = Answer.objects.select_related("question", "updated_by").get(pk=answer.pk)
    if saved or current.text == text:
        current.render_problem = problem
        return current
    attempt = AnswerRevision.objects.create(
        answer=current, version=base_version, kind=AnswerRevision.Kind.CONFLICT, text=text, author=user, source=source
    )
    raise AnswerConflict(current, attempt)


def answer_restore(*, report: Report, revision: AnswerRevision, base_version: int, user) -> Answer:
    """Make an old version (or a conflicting attempt) current again, as a new version; history is never rewritten."""
    what = f"v{revision.version}" if revision.kind == AnswerRevision.Kind.SAVED else "an unsaved attempt"
    return answer_save(
        report=report,
        question=revision.answer.question,
        text=revision.text,
        base_version=base_version,
        user=user,
        source=f"restore of {what}",
    )


def checklist_set(*, report: Report, changes: dict[int, bool], user) -> list[ChecklistMark]:
    """Tick (True) or untick (False) checklist items by position; items not in `changes` stay as they are.

    Only changes are sent, never the whole list, so two teammates ticking different items never undo each other.
    """
    _ensure_open(report.group)
    items = {i.position: i for i in report.template.checklist.filter(position__in=changes)}
    unknown = sorted(set(changes) - set(items))
    if unknown:
        raise ValueError(f"no checklist item at position {unknown[0]}")
    now, marks = timezone.now(), []
    with transaction.atomic():
        for position, checked in changes.items():
            mark, _ = ChecklistMark.objects.select_for_update().get_or_create(report=report, item=items[position])
            if mark.checked != checked:
                mark.checked, mark.mark, mark.updated_by, mark.updated_at = checked, "x" if checked else " ", user, now
                mark.save(update_fields=["checked", "mark", "updated_by", "updated_at"])
            marks.append(mark)
    return marks


def figure_add(*, report: Report, data: bytes, wanted_name: str, user) -> tuple[Figure, bool]:
    """Store an uploaded image as `reports/figures/<safe name>`: (figure, created).

    The bytes must be a PNG or JPEG that decodes whole (figures.FigureRejected otherwise). What is stored is the
    image without its location and camera data (figures.without_metadata: the same pixels). The same image uploaded
    again gives back the figure already there.
    """
    _ensure_open(report.group)
    info = _figure_inspect(data)
    data = figures.without_metadata(data, info)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        Report.objects.select_for_update().filter(pk=report.pk).first()  # one upload at a time picks a name
        existing = {f.name: f for f in report.figures.all()}
        same = next((f for f in existing.values() if f.sha256 == digest), None)
        if same is not None:
            return same, False
        name = figures.safe_name(wanted_name, info.extension, set(existing))
        figure = _figure_store(report=report, name=name, data=data, info=info, digest=digest, user=user)
    return figure, True


def _figure_inspect(data: bytes) -> figures.ImageInfo:
    """What figure bytes are, under the limits of the settings; figures.FigureRejected, saying why, otherwise."""
    return figures.inspect_image(
        data,
        max_bytes=settings.FIGURE_MAX_BYTES,
        max_pixels=settings.FIGURE_MAX_PIXELS,
        max_scans=settings.FIGURE_MAX_SCANS,
    )


def _figure_store(
    *,
    report: Report,
    name: str,
    data: bytes,
    info: figures.ImageInfo,
    digest: str,
    user,
    figure: Figure | None = None,
) -> Figure:
    """Write checked image bytes as figure `name` of the report: a new figure, or new bytes for `figure` (whose old
    file is removed once the transaction commits). Call it inside transaction.atomic()."""
    old_file = figure.file.name if figure is not None else None
    figure = figure or Figure(report=report, name=name)
    figure.content_type, figure.width, figure.height = info.content_type, info.width, info.height
    figure.size, figure.sha256, figure.uploaded_by = len(data), digest, user
    figure.file.save(figure.name, ContentFile(data), save=False)
    try:
        figure.save()
    except Exception:
        figure.file.delete(save=False)
        raise
    if old_file:
        storage = figure.file.storage
        transaction.on_commit(lambda: storage.delete(old_file))
    return figure


def figure_delete(*, figure: Figure) -> None:
    _ensure_open(figure.report.group)
    with transaction.atomic():
        figure.delete()
        transaction.on_commit(lambda: figure.file.delete(save=False))


def figure_orphans(*, older_than: timedelta) -> list[Path]:
    """Figure files no figure refers to, last written more than `older_than` ago (younger ones may belong to a save
    in progress): left by an import whose worker was killed before it committed, or by a restore over another site."""
    root = Path(settings.MEDIA_ROOT) / "figures"
    known = {Path(settings.MEDIA_ROOT) / name for name in Figure.objects.values_list("file", flat=True)}
    cutoff = time.time() - older_than.total_seconds()
    files = (path for path in root.rglob("*") if path.is_file() and not path.is_symlink())
    return sorted(path for path in files if path not in known and path.stat().st_mtime < cutoff)


def figure_users(answers: Iterable[Answer]) -> dict[str, list[int]]:
    """Figure name -> the numbers of the questions whose answer shows it, in order."""
    users: dict[str, list[int]] = {}
    for answer in sorted(answers, key=lambda a: a.question.number):
        for name in figures.referenced_names(answer.text):
            users.setdefault(name, []).append(answer.question.number)
    return users


# What the report page shows, read with a fixed number of queries whatever the number of questions.


@dataclass
class QuestionRow:
    question: Question
    answer: Answer | None
    result: checks.QuestionResult

    @property
    def is_placeholder(self) -> bool:
        """The answer is still the template's `--- question N fill here ---` text (which the course counts as words)."""
        return (
            self.answer is not None
            and bool(self.question.placeholder)
            and (self.answer.text.strip() == self.question.placeholder.strip())
        )

    @property
    def is_empty(self) -> bool:
        return self.answer is None or not self.answer.text.strip()


@dataclass
class ReportPage:
    report: Report
    rows: list[QuestionRow]
    result: checks.CheckResult
    checklist: list[tuple[str, list[tuple[ChecklistItem, bool]]]]  # (week, [(item, checked)])
    figures: list[Figure] = field(default_factory=list)

    @property
    def sections(self) -> list[tuple[str, list[QuestionRow]]]:
        grouped: list[tuple[str, list[QuestionRow]]] = []
        for row in self.rows:
            title = row.question.section.title if row.question.section else ""
            if not grouped or grouped[-1][0] != title:
                grouped.append((title, []))
            grouped[-1][1].append(row)
        return grouped


def report_page(report: Report) -> ReportPage:
    """Questions, answers, verdicts, checklist and figures of a report, in five queries."""
    questions = list(report.template.questions.select_related("section"))  # 1
    answers = {
        a.question_id: a
        for a in report.answers.filter(question__template_id=report.template_id).select_related("updated_by")  # 2
    }
    items = list(report.template.checklist.all())  # 3
    marks = {m.item_id: m for m in report.marks.filter(item__template_id=report.template_id)}  # 4
    figure_list = list(report.figures.all())  # 5
    readme = parsing.render_layout(
        report.layout_parts(),
        {q.number: answers[q.id].text for q in questions if q.id in answers},
        {i.position: marks[i.id].mark for i in items if i.id in marks},
    )
    result = check_markdown(readme, report.template, [q.rule() for q in questions])
    by_number = {r.number: r for r in result.questions}
    rows = [QuestionRow(q, answers.get(q.id), by_number[q.number]) for q in questions]
    checklist: list[tuple[str, list[tuple[ChecklistItem, bool]]]] = []
    for item in items:
        if not checklist or checklist[-1][0] != item.week:
            checklist.append((item.week, []))
        checklist[-1][1].append((item, item.id in marks and marks[item.id].checked))
    return ReportPage(report, rows, result, checklist, figure_list)


# The staff dashboard and the export for grading: every group of a course with its check, in six queries.


class Verdict(StrEnum):
    """A question's verdict on the dashboard and in the export."""

    PASS = "pass"
    WORDS = "words"  # fails its word range
    IMAGES = "images"  # words fine, fails its image range
    MISSING = "missing"  # nothing written (or no report at all)
    STOPS = "stops"  # the course checker stops on the whole file, so no question passes

    @property
    def word(self) -> str:
        """What the CSV files say: pass, fail or missing."""
        return self.value if self in (Verdict.PASS, Verdict.MISSING) else "fail"

    @property
    def letter(self) -> str:
        """A dashboard cell: P, W, I, M or S (the cell's colour says the same, its title says why)."""
        return self.value[0].upper()


@dataclass(frozen=True)
class QuestionVerdict:
    number: int
    verdict: Verdict
    detail: str  # the course checker's messages, or what passed, in words


def question_verdict(result: checks.QuestionResult) -> Verdict:
    """The verdict of one question in a file the course checker reads to the end.

    An answer with nothing in it is missing rather than too short; one that passes (no word rule) still passes.
    """
    if result.passed:
        return Verdict.PASS
    if result.words is None or (result.words == 0 and result.images == 0):
        return Verdict.MISSING
    return Verdict.IMAGES if result.words_ok else Verdict.WORDS


def _counts(result: checks.QuestionResult) -> str:
    text = f"words {result.words}"
    if result.rule.words:
        text += f" of {result.rule.words[0]}-{result.rule.words[1]}"
    if result.rule.images:
        text += f", images {result.images} of {result.rule.images[0]}-{result.rule.images[1]}"
    return text


def _question_verdicts(result: checks.CheckResult, numbers: Iterable[int]) -> tuple[QuestionVerdict, ...]:
    by_number = {q.number: q for q in result.questions}
    verdicts = []
    for number in numbers:
        q = by_number.get(number)
        if q is None:
            verdicts.append(QuestionVerdict(number, Verdict.MISSING, f"Question {number} is not in this template"))
        elif result.course_error:
            found = " ".join(q.messages) or f"question {number} passes by its heading ({_counts(q)})"
            verdicts.append(QuestionVerdict(number, Verdict.STOPS, f"The course checker stops on this file. {found}"))
        elif q.passed:
            verdicts.append(QuestionVerdict(number, Verdict.PASS, f"Question {number} passes: {_counts(q)}"))
        else:
            verdicts.append(QuestionVerdict(number, question_verdict(q), " ".join(q.messages)))
    return tuple(verdicts)


@dataclass(frozen=True)
class GroupMember:
    username: str
    name: str  # first and last name, empty when not known
    email: str


@dataclass(frozen=True, eq=False)
class GroupOverview:
    """One group of a course as staff see it: members, the check of its README as it is now, its last scrape."""

    group: Group
    members: tuple[GroupMember, ...]  # in the order they joined
    report: Report | None  # None: the group never opened or imported a report
    readme: str | None  # the README.md as it stands (None without a report)
    result: checks.CheckResult | None
    verdicts: tuple[QuestionVerdict, ...]  # one per column of the overview
    passed: int  # questions passed; 0 when the course checker stops on the file
    total: int  # questions of the report's template
    no_report: bool  # no report, or not one answer written

    @property
    def scrape(self) -> Scrape | None:
        return self.group.last_scrape

    @property
    def commit_at(self) -> datetime | None:
        return self.scrape.commit_at if self.scrape else None

    @property
    def late(self) -> bool:
        """The commit last scraped is dated after the group's deadline (its extension, else the course's)."""
        return self.scrape is not None and self.scrape.late_for(self.group.deadline)

    @property
    def never_scraped(self) -> bool:
        return bool(self.group.repo_url.strip()) and self.scrape is None

    @property
    def empty_repo(self) -> bool:
        return self.scrape is not None and self.scrape.status == Scrape.Status.EMPTY

    @property
    def stops(self) -> str | None:
        """Why the course checker stops on this file, or None when it reads it to the end."""
        return " ".join(self.result.structure) if self.result and self.result.course_error else None

    @property
    def flags(self) -> list[str]:
        return [
            label
            for label, on in (
                ("no report", self.no_report),
                ("course checker stops", bool(self.stops)),
                ("never scraped", self.never_scraped),
                ("empty repo", self.empty_repo),
            )
            if on
        ]

    def verdict(self, number: int) -> Verdict:
        return next((v.verdict for v in self.verdicts if v.number == number), Verdict.MISSING)

    def member_names(self) -> list[str]:
        return [m.name or m.username for m in self.members]

    def member_emails(self) -> list[str]:
        """E-mail addresses, or the user name of a member who has none (so nobody drops out of a grade sheet)."""
        return [m.email or m.username for m in self.members]

    def matches(self, text: str) -> bool:
        """The search box: the group's number, or part of its name or of a member's name, user name or e-mail."""
        text = text.strip().casefold()
        if text.removeprefix("group").strip() == str(self.group.number):
            return True
        haystack = [self.group.name, *(f"{m.username} {m.name} {m.email}" for m in self.members)]
        return any(text in value.casefold() for value in haystack)

    def slim(self) -> GroupOverview:
        """The row without its README and report, to keep for an index once the group's files are written."""
        return replace(self, report=None, readme=None)


SCRAPE_ORDER = {status: i for i, status in enumerate(Scrape.Status.values)}
OVERVIEW_SORTS = {
    "group": lambda row: row.group.number,
    "passed": lambda row: row.passed,
    "commit": lambda row: row.commit_at,
    "status": lambda row: SCRAPE_ORDER[row.scrape.status] if row.scrape else None,
}


@dataclass(frozen=True)
class CourseOverview:
    course: Course
    numbers: tuple[int, ...]  # the question columns
    rows: list[GroupOverview]

    def select(
        self,
        *,
        sort: str = "group",
        status: str = "",
        failing: int | None = None,
        late: bool = False,
        never_scraped: bool = False,
        search: str = "",
    ) -> list[GroupOverview]:
        """The rows that pass every filter given, sorted by `sort` ("passed", or "-passed" for descending).

        `status` is a scrape status or "none" (no scrape yet); `failing` keeps groups whose question `failing` does
        not pass. Rows without a value to sort by (never scraped, no commit) come last either way.
        """
        rows = [
            row
            for row in self.rows
            if (not status or (row.scrape.status if row.scrape else "none") == status)
            and (failing is None or row.verdict(failing) != Verdict.PASS)
            and (not late or row.late)
            and (not never_scraped or row.never_scraped)
            and (not search.strip() or row.matches(search))
        ]
        key = OVERVIEW_SORTS[sort.removeprefix("-")]
        rows.sort(key=lambda row: row.group.number)
        known = [row for row in rows if key(row) is not None]
        return sorted(known, key=key, reverse=sort.startswith("-")) + [row for row in rows if key(row) is None]


def course_overview(course: Course, *, group_ids: Iterable[int] | None = None) -> CourseOverview:
    """Every group of the course (or those in `group_ids`) with members, check, last scrape and flags: six queries.

    Each README is rebuilt from the template (or imported layout) with the current answers and marks, then checked
    like the course does with its template's stored rules. A file the course checker stops on fails every question.
    The columns are the question numbers of the course's template and of every report's template.
    """
    groups = course.groups.select_related("last_scrape", "report").defer("report__source").order_by("number")
    if group_ids is not None:
        groups = groups.filter(pk__in=list(group_ids))
    groups = list(groups)  # 1
    reports = {g.pk: g.report for g in groups if getattr(g, "report", None) is not None}
    template_ids = {r.template_id for r in reports.values()} | ({course.template_id} if course.template_id else set())
    templates = ReportTemplate.objects.in_bulk(template_ids)  # 2
    rules: dict[int, list[checks.Rule]] = {pk: [] for pk in templates}
    for question in Question.objects.filter(template_id__in=template_ids).order_by("template_id", "number"):  # 3
        rules[question.template_id].append(question.rule())
    numbers = tuple(sorted({rule.number for template_rules in rules.values() for rule in template_rules}))

    in_course: dict = {"group__course": course} | ({"group__in": groups} if group_ids is not None else {})
    members: dict[int, list[GroupMember]] = {g.pk: [] for g in groups}
    memberships = Membership.objects.filter(**in_course).order_by("id")
    for group_id, username, first, last, email in memberships.values_list(  # 4
        "group_id", "user__username", "user__first_name", "user__last_name", "user__email"
    ):
        members[group_id].append(GroupMember(username, f"{first} {last}".strip(), email))
    in_course = {f"report__{k}": v for k, v in in_course.items()}
    answers: dict[int, dict[int, str]] = {pk: {} for pk in (r.pk for r in reports.values())}
    for report_id, number, text in Answer.objects.filter(  # 5
        question__template_id=F("report__template_id"), **in_course
    ).values_list("report_id", "question__number", "text"):
        answers[report_id][number] = text
    marks: dict[int, dict[int, str]] = {pk: {} for pk in answers}
    for report_id, position, mark in ChecklistMark.objects.filter(  # 6
        item__template_id=F("report__template_id"), **in_course
    ).values_list("report_id", "item__position", "mark"):
        marks[report_id][position] = mark

    missing = tuple(QuestionVerdict(n, Verdict.MISSING, "No report yet") for n in numbers)
    rows = []
    for group in groups:
        report = reports.get(group.pk)
        if report is None:
            rows.append(
                GroupOverview(
                    group=group,
                    members=tuple(members[group.pk]),
                    report=None,
                    readme=None,
                    result=None,
                    verdicts=missing,
                    passed=0,
                    total=len(numbers),
                    no_report=True,
                )
            )
            continue
        report.template = templates[report.template_id]
        readme = parsing.render_layout(report.layout_parts(), answers[report.pk], marks[report.pk])
        result = check_markdown(readme, report.template, rules[report.template_id])
        rows.append(
            GroupOverview(
                group=group,
                members=tuple(members[group.pk]),
                report=report,
                readme=readme,
                result=result,
                verdicts=_question_verdicts(result, numbers),
                passed=0 if result.course_error else result.passed,
                total=result.total,
                no_report=not any(text.strip() for text in answers[report.pk].values()),
            )
        )
    return CourseOverview(course, numbers, rows)
