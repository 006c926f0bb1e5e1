"""A course's grading overview: submissions by questions, progress per grader and per question, filters."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def grading_overview(request: HttpRequest, course_id: int) -> HttpResponse:
    raise Http404
