"""The dashboard as the staff hub: its jobs panel (scrape, export, the course's recent jobs) comes into the
dashboard's template with one include, whatever the dashboard's view puts in its context."""

from __future__ import annotations

from django import template

from reports_app.models import Course
from reports_app.selectors.courses import JOBS_ON_DASHBOARD, Hub, course_hub

register = template.Library()


@register.simple_tag
def dashboard_hub(course: Course) -> Hub:
    """The jobs panel of the course's dashboard: two queries."""
    return course_hub(course, JOBS_ON_DASHBOARD)
