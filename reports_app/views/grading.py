"""Grading one answer: the page per (submission, question), its autosave, its figures; revealing groups."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def grade(request: HttpRequest, course_id: int, code: str, number: int) -> HttpResponse:
    raise Http404


def grading_figure(request: HttpRequest, course_id: int, code: str, name: str) -> HttpResponse:
    raise Http404


def reveal_groups(request: HttpRequest, course_id: int) -> HttpResponse:
    raise Http404
