"""Migration 0013: grading's tables appear (and go again) on a database that holds courses and groups."""

import pytest
from django.db import connection

from tests.helpers.migrations import migrate, migrate_to_latest

BEFORE = [("reports_app", "0012_course_staff")]
AFTER = [("reports_app", "0013_grading")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_grading_applies_over_existing_courses_and_reverses():
    old = migrate(BEFORE)
    try:
        Course = old.get_model("reports_app", "Course")
        Group = old.get_model("reports_app", "Group")
        course = Course.objects.create(code="A1")
        group = Group.objects.create(course=course, number=1)

        new = migrate(AFTER)

        assert new.get_model("reports_app", "Course").objects.get(pk=course.pk).grades_may_exceed is False
        item = new.get_model("reports_app", "RubricItem").objects.create(
            course_id=course.pk, number=1, text="ok", points="-1.5"
        )
        grade = new.get_model("reports_app", "Grade").objects.create(group_id=group.pk, number=1)
        grade.items.add(item)
        assert str(grade.items.get().points) == "-1.50"

        migrate(BEFORE)
        assert "reports_app_grade" not in connection.introspection.table_names()
    finally:
        migrate_to_latest()
