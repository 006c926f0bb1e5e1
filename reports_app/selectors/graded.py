"""What is graded: each answer's text as it stood when the hand-in closed.

That is the answer's last saved version at the group's deadline scrape (the commit the site read at the deadline)
when there is one, else its last version before the group's deadline (extension or course deadline), else its
current version. A grade keeps the version its grader saw (Grade.revision); a grade whose answer is graded at
another version now (a new deadline scrape, an edit while no deadline is set) is "changed since graded".

All of it is one query for a whole course (a subquery per answer), however many groups and questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now

from ..models import Answer, AnswerRevision, Course, Group, Scrape

IMPORTED = (Scrape.Status.OK, Scrape.Status.PROBLEMS)


def deadline_scrapes() -> QuerySet[Scrape]:
    """Scrapes at the deadline that read a commit into the report, newest first."""
    return Scrape.objects.filter(at_deadline=True, status__in=IMPORTED).exclude(commit_sha="").order_by("-fetched_at")


def with_graded_revision(answers: QuerySet[Answer]) -> QuerySet[Answer]:
    """`answers` with `graded_until` (when the hand-in closed for its group: the deadline scrape's time, else the
    group's deadline, else now) and `graded_revision_id` (the last saved revision by then; None: none yet)."""
    scrape = deadline_scrapes().filter(group_id=OuterRef("report__group_id")).values("fetched_at")[:1]
    until = Coalesce(Subquery(scrape), F("report__group__extension"), F("report__group__course__deadline"), Now())
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
    scrape: Scrape | None  # the deadline scrape it comes from, when there is one
    until: datetime | None  # when the hand-in closed (None: no deadline, the current version)

    @property
    def text(self) -> str:
        return self.revision.text if self.revision else ""


def graded_answer(group: Group, number: int) -> GradedAnswer:
    """The group's answer to question `number` as graded (two queries)."""
    scrape = deadline_scrapes().filter(group=group).first()
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
