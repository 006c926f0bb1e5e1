"""Migration 0012: today's staff keep working, as instructors of every course."""

import pytest

from tests.helpers.migrations import migrate, migrate_to_latest

BEFORE = [("reports_app", "0011_invitation_study_number")]
AFTER = [("reports_app", "0012_course_staff")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(120)
def test_staff_become_instructors_of_every_course_and_nobody_else_gets_a_role():
    old = migrate(BEFORE)
    try:
        User = old.get_model("auth", "User")
        Course = old.get_model("reports_app", "Course")
        staff = User.objects.create(username="teacher", is_staff=True)
        User.objects.create(username="root", is_staff=True, is_superuser=True)
        User.objects.create(username="student")
        courses = [Course.objects.create(code=code) for code in ("A1", "B2")]

        new = migrate(AFTER)

        CourseStaff = new.get_model("reports_app", "CourseStaff")
        roles = sorted(CourseStaff.objects.values_list("user__username", "course__code", "role"))
        assert roles == [("teacher", "A1", "instructor"), ("teacher", "B2", "instructor")]
        assert {c.pk for c in courses} == set(
            CourseStaff.objects.filter(user_id=staff.pk).values_list("course_id", flat=True)
        )
    finally:
        migrate_to_latest()
