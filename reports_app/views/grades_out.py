"""Grades out of the site: the course's grades as CSV, in D2L's import format, and the grade log.

Instructors only (anyone else gets 404, as for the export zip): these files name groups and members, whether or not
the course grades anonymously."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from ..exporting import file_name_part
from ..selectors.grade_exports import KINDS, grades_file
from .access import attachment, get_course_for_staff, login_required

FILE_NAMES = {"grades.csv": "grades.csv", "d2l.csv": "d2l-grades.csv", "log.csv": "grade-log.csv"}


@login_required
def export_grades(request: HttpRequest, course_id: int, kind: str) -> HttpResponse:
    """One of the course's grades files as a download, 'C1-grades.csv' say; an unknown kind is not found."""
    course = get_course_for_staff(request, course_id, instructors_only=True)
    if kind not in KINDS:
        raise Http404("No such grades file")
    name = f"{file_name_part(course.code)}-{FILE_NAMES[kind]}"
    return attachment(grades_file(course, kind), name, "text/csv; charset=utf-8")
