"""What is graded: each answer's text as it stood when the hand-in closed.

Which moment that is, the first that applies:

1. the on-time scrape: the branch head the worker read at the group's deadline (services.deadline_scrapes), the
   commit as the server saw it then, whatever date its commits claim. One made at an earlier deadline (moved since)
   does not count;
2. else the latest scrape at the deadline by commit date (the last commit dated before the deadline: a course that
   started using the site late has only this);
3. else the group's deadline (extension or course deadline): the answers' last versions before it;
4. else now: their current versions.

The answer graded is its last saved version at that moment (a scrape's versions are made before its `fetched_at`).
A grade keeps the version its grader saw (Grade.revision); a grade whose answer is graded at another version now (a
new deadline scrape, an edit while no deadline is set) is "changed since graded".

Where the two clocks disagree (the commit graded is dated before the deadline, but the site first saw it after:
CommitSeen), `with_seen_late` flags the group; never for an on-time scrape's commit, read at the deadline.

All of it is one query for a whole course (subqueries per answer), however many groups and questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Now

from ..models import Answer, AnswerRevision, CommitSeen, Course, Group, Scrape

IMPORTED = (Scrape.Status.OK, Scrape.Status.PROBLEMS)


def deadline_scrapes() -> QuerySet[Scrape]:
    """Scrapes at the deadline by commit date that read a commit into the report, newest first."""
    return Scrape.objects.filter(at_deadline=True, status__in=IMPORTED).exclude(commit_sha="").order_by("-fetched_at")


def on_time_scrapes(deadline: datetime | Combinable) -> QuerySet[Scrape]:
    """On-time scrapes (the branch head read by the worker at the deadline) that read a commit into the report and
    ran at `deadline` (the group's, now) or later, newest first."""
    on_time = Scrape.objects.filter(on_time=True, status__in=IMPORTED, fetched_at__gte=deadline)
    return on_time.exclude(commit_sha="").order_by("-fetched_at")


def graded_scrapes(deadline: datetime | Combinable | None) -> QuerySet[Scrape]:
    """The scrapes a group's hand-in may be graded from, the one graded first: on-time scrapes, then scrapes at the
    deadline by commit date, each newest first (`deadline`: the group's)."""
    scrapes = Scrape.objects.filter(status__in=IMPORTED).exclude(commit_sha="")
    on_time = Q(on_time=True, fetched_at__gte=deadline) if deadline is not None else Q(pk__in=[])
    return scrapes.filter(Q(at_deadline=True) | on_time).order_by("-on_time", "-fetched_at")


def with_seen_late(groups: QuerySet[Group]) -> QuerySet[Group]:
    """`groups` with `seen_late`: the commit graded (a scrape at the deadline by commit date; never an on-time
    scrape's) is dated at or before the group's deadline, but the site first saw it after."""
    deadline = Coalesce(OuterRef("extension"), OuterRef("course__deadline"))
    sha = Case(When(on_time=True, then=Value("")), default=F("commit_sha"))  # "": no commit seen has that sha
    graded = graded_scrapes(deadline).filter(group_id=OuterRef("pk")).values(graded=sha)[:1]
    seen = CommitSeen.objects.filter(
        group_id=OuterRef("pk"), sha=OuterRef("graded_sha"), committed_at__lte=deadline, first_seen_at__gt=deadline
    )
    return groups.annotate(graded_sha=Subquery(graded)).annotate(seen_late=Exists(seen))


def with_graded_revision(answers: QuerySet[Answer]) -> QuerySet[Answer]:
    """`answers` with `graded_until` (when the hand-in closed for its group: the on-time scrape's time, else the
    deadline scrape's, else the group's deadline, else now) and `graded_revision_id` (the last saved revision by
    then; None: none yet)."""
    deadline = Coalesce(OuterRef("report__group__extension"), OuterRef("report__group__course__deadline"))
    on_time = on_time_scrapes(deadline).filter(group_id=OuterRef("report__group_id")).values("fetched_at")[:1]
    scrape = deadline_scrapes().filter(group_id=OuterRef("report__group_id")).values("fetched_at")[:1]
    group = F("report__group__extension"), F("report__group__course__deadline")
    until = Coalesce(Subquery(on_time), Subquery(scrape), *group, Now())  # the order of the module's docstring
    revision = AnswerRevision.objects.filter(
        answer=OuterRef("pk"), kind=AnswerRevision.Kind.SAVED, created_at__lte=OuterRef("graded_until")
    ).order_by("-version", "-pk")
    return answers.annotate(graded_until=until).annotate(graded_revision_id=Subquery(revision.values("pk")[:1]))


def graded_revision_ids(course: Course, *, group_ids: Iterable[int] | None = None) -> dict[tuple[int, int], int]:
    """{(group id, question number): the id of the revision graded} for the course's answers on their report's own
    template (answers without any saved revision by then are left out); one query."""
    answers = Answer.objects.on_own_template().filter(report__group__course=course)
    if group_ids is not None:
        answers = answers.filter(report__group_id__in=list(group_ids))
    rows = with_graded_revision(answers).values_list("report__group_id", "question__number", "graded_revision_id")
    # None left out here: a filter on it would make the database compute every subquery twice
    return {(group_id, number): revision_id for group_id, number, revision_id in rows if revision_id is not None}


@dataclass(frozen=True)
class GradedAnswer:
    """One answer as graded: its revision (None: not answered by then) and what the hand-in was."""

    revision: AnswerRevision | None
    scrape: Scrape | None  # the on-time or deadline scrape it comes from, when there is one
    until: datetime | None  # when the hand-in closed (None: no deadline, the current version)

    @property
    def text(self) -> str:
        return self.revision.text if self.revision else ""


def graded_answer(group: Group, number: int) -> GradedAnswer:
    """The group's answer to question `number` as graded (two queries)."""
    scrape = graded_scrapes(group.deadline).filter(group=group).first()
    until = scrape.fetched_at if scrape else group.deadline
    revisions = AnswerRevision.objects.filter(
        answer__report__group=group,
        answer__question__number=number,
        answer__question__template_id=F("answer__report__template_id"),
        kind=AnswerRevision.Kind.SAVED,
    ).select_related("author")
    if until is not None:
        revisions = revisions.filter(created_at__lte=until)
    return GradedAnswer(revisions.order_by("-version", "-pk").first(), scrape, until)
