"""Feedback: instructors release grades (all, or one question), students read theirs and ask for regrades, graders
answer them."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def feedback(request: HttpRequest, group_id: int) -> HttpResponse:
    raise Http404


def request_regrade(request: HttpRequest, group_id: int, number: int) -> HttpResponse:
    raise Http404


def release_grades(request: HttpRequest, course_id: int) -> HttpResponse:
    raise Http404


def answer_regrade(request: HttpRequest, course_id: int, regrade_id: int) -> HttpResponse:
    raise Http404
