"""Grades out of the site: the course's grades as CSV, in D2L's import format, and the grade log."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def export_grades(request: HttpRequest, course_id: int, kind: str) -> HttpResponse:
    raise Http404
