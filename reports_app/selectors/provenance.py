"""Who or what made an answer's current version, in words: "bob, 2 minutes ago", "from the repo at abc1234, scraped
12 Jan 14:03", "imported from report.md, 12 Jan 14:03", "restored from v3 by bob, 1 hour ago".

The words come from the source of the answer's current revision (AnswerRevision.source: `web`, `repo@<sha>`,
`import: <file>`, `restore of v3`), its author and its time (Answer.updated_by and updated_at, set by the same save).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import formats, timezone
from django.utils.timesince import timesince

from ..engine.people import person_name
from ..models import Answer, AnswerRevision

BY_PERSON = "{who}, {when}"
FROM_REPO = "from the repo at {sha}, scraped {at}"
IMPORTED = "imported from {file}, {at}"
RESTORED = "restored from {what} by {who}, {when}"
FROM_ELSEWHERE = "from {source}, {at}"
JUST_NOW = "just now"
SHORT_SHA = 7


def with_current_source(answers: QuerySet[Answer]) -> QuerySet[Answer]:
    """`answers` with `current_source`: the source of the revision that is each answer's version now (None without
    one). A subquery: the page that lists answers makes no query more for it."""
    current = AnswerRevision.objects.filter(
        answer=OuterRef("pk"), version=OuterRef("version"), kind=AnswerRevision.Kind.SAVED
    )
    return answers.annotate(current_source=Subquery(current.values("source")[:1]))


def latest_revisions(answers: Iterable[Answer]) -> dict[int, AnswerRevision]:
    """The revision that is each answer's current version, by answer id (one query); answers without one are left
    out."""
    revisions = AnswerRevision.objects.filter(
        answer_id__in=[a.pk for a in answers if a.pk], kind=AnswerRevision.Kind.SAVED, version=F("answer__version")
    )
    return {r.answer_id: r for r in revisions.select_related("author")}


def answer_provenance(answer: Answer, source: str | None, *, now: datetime | None = None) -> str:
    """Who or what changed `answer` last, in words; `source` is its current revision's (None when unknown); "" for an
    answer never saved.

    >>> answer_provenance(Answer(version=0), None)
    ''
    """
    if not answer.version:
        return ""
    now = now or timezone.now()
    who, at = person_name(answer.updated_by), answer.updated_at or now
    when = JUST_NOW if now - at < timedelta(minutes=1) else f"{timesince(at, now)} ago"
    source = source or "web"
    if source.startswith("repo@"):
        return FROM_REPO.format(sha=source.removeprefix("repo@")[:SHORT_SHA], at=_local(at, now))
    if source.startswith("import: "):
        return IMPORTED.format(file=source.removeprefix("import: "), at=_local(at, now))
    if source.startswith("restore of "):
        return RESTORED.format(what=source.removeprefix("restore of "), who=who, when=when)
    if source == "web":
        return BY_PERSON.format(who=who, when=when)
    return FROM_ELSEWHERE.format(source=source, at=_local(at, now))


def _local(at: datetime, now: datetime) -> str:
    """'12 Jan 14:03' in the site's time zone, like the pages; with the year when it is not this year's."""
    local = timezone.localtime(at)
    return formats.date_format(local, "j M H:i" if local.year == timezone.localtime(now).year else "j M Y H:i")
