"""A course's grading overview: submissions by questions, progress per grader and per question, filters."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..forms.staff import GradingFilterForm
from ..selectors.grading_overview import first_ungraded
from ..selectors.grading_overview import grading_overview as overview_of
from ..selectors.outbox import outbox_counts
from ..selectors.submissions import hides_groups
from .access import get_course_for_staff

EXPORT_KINDS = (("grades.csv", "Grades (CSV)"), ("d2l.csv", "Grades for D2L (CSV)"), ("log.csv", "Grade log (CSV)"))


@login_required
def grading_overview(request: HttpRequest, course_id: int) -> HttpResponse:
    """The grid of the submissions the user grades (a TA: the groups assigned to them) by graded question."""
    course = get_course_for_staff(request, course_id)
    hidden = hides_groups(request, course)
    overview = overview_of(course, request.user, hidden=hidden)
    form = GradingFilterForm(request.GET)
    rows = overview.select(user_id=request.user.pk, **form.selection())
    instructor = course.viewer_instructs
    context = {
        "course": course,
        "overview": overview,
        "rows": rows,
        "form": form,
        "hidden": hidden,
        "start": first_ungraded(rows),
        "instructor": instructor,
        "export_kinds": EXPORT_KINDS,
        "question_points": overview.question_points,  # for _release_panel.html
        "mails": outbox_counts(course) if instructor else None,  # for _release_panel.html
    }
    return render(request, "reports_app/grading_overview.html", context)
