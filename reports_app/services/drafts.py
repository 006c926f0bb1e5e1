"""Drafts: what a member has typed in an answer's editor and not saved yet, autosaved every few seconds.

A draft belongs to its author (nobody else reads its text), is not a version, is restored when its author opens the
editor again and is gone once they save. Teammates see only that its author is editing ("bob is editing")."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..engine.people import person_name
from ..models import Answer, Draft, Question, Report
from .answers import ensure_open


def draft_save(*, report: Report, question: Question, author: AbstractBaseUser, text: str, base_version: int) -> Draft:
    """Keep `text` as the author's draft of this answer (one per author and answer; the newest wins).

    Refused (DeadlinePassed) once the hand-in is closed, like a save: after the deadline nothing typed can change the
    report, and the editor keeps the text in the browser instead."""
    ensure_open(report.group)
    draft = Draft(report=report, question=question, author=author, text=text, base_version=base_version)
    draft.updated_at = timezone.now()
    mine = Draft.objects.filter(report=report, question=question, author=author)
    if mine.update(text=text, base_version=base_version, updated_at=draft.updated_at):  # one query, every few seconds
        return draft
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError:  # the author's other tab created it meanwhile: the newest text wins
        mine.update(text=text, base_version=base_version, updated_at=draft.updated_at)
    return draft


def draft_of(*, report: Report, question: Question, author: AbstractBaseUser) -> Draft | None:
    return Draft.objects.filter(report=report, question=question, author=author).first()


def draft_discard(*, report: Report, question: Question, author: AbstractBaseUser) -> None:
    Draft.objects.filter(report=report, question=question, author=author).delete()


def draft_worth_restoring(draft: Draft | None, answer: Answer) -> bool:
    """A draft whose text differs from the answer as saved (a draft equal to it holds nothing to restore)."""
    return draft is not None and draft.text != answer.text


def editing_now(*, report: Report, question: Question, besides: AbstractBaseUser) -> list[str]:
    """The names of the other members who typed in this answer's editor in the last DRAFT_PRESENCE_SECONDS."""
    since = timezone.now() - timedelta(seconds=settings.DRAFT_PRESENCE_SECONDS)
    drafts = (
        Draft.objects.filter(report=report, question=question, updated_at__gte=since)
        .exclude(author_id=besides.pk)
        .select_related("author")
        .order_by("author_id")
    )
    return [person_name(d.author) for d in drafts]
