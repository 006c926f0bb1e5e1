"""export_grades: an instructor downloads the course's grades (grades.csv), D2L's import file (d2l.csv) and the grade
log (log.csv); a TA, even of the graded group, a student and an unknown kind get 404; what people typed never runs as
a formula; the queries do not grow with the groups."""

from decimal import Decimal

import pytest
from django.urls import reverse

from reports_app.models import CourseStaff, Group, GroupGrader, Membership, QuestionPoints, RubricItem, StaffRole
from reports_app.services.grading import GRADE_LOG_HEADER, grade_save
from tests.conftest import client_for
from tests.helpers.csv import assert_all_quoted, assert_nothing_runs


def download_url(course, kind: str) -> str:
    return reverse("export-grades", args=[course.pk, kind])


@pytest.fixture
def graded(course, group1, group2, instructor):
    """Question 3 (max 4) of group 1 graded 2.50 with a comment that looks like a formula; alice has a study number."""
    QuestionPoints.objects.create(course=course, number=3, max_points=Decimal("4"))
    item = RubricItem.objects.create(course=course, number=3, text="Names the tool", points=Decimal("2"))
    comment = "=HYPERLINK(1)"
    grade_save(group=group1, number=3, items=[item], adjustment="0.5", comment=comment, base_version=0, user=instructor)
    Membership.objects.filter(user__username="alice").update(study_number="s123456")
    return course


def rows_of(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert_nothing_runs(text)
    return assert_all_quoted(text)


def test_the_instructor_gets_the_points_per_group(graded, staff):
    response = staff.get(download_url(graded, "grades.csv"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="C1-grades.csv"'
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    assert rows_of(response) == [
        ["group", "name", "members", "study numbers", "Q3 points", "total points", "max points"],
        ["1", "One", "alice; bob", "s123456; ", "2.50", "2.50", "4.00"],
        ["2", "Two", "charlie", "", "", "", "4.00"],
    ]


def test_the_instructor_gets_d2ls_import_file(graded, staff):
    response = staff.get(download_url(graded, "d2l.csv"))

    assert response["Content-Disposition"] == 'attachment; filename="C1-d2l-grades.csv"'
    assert rows_of(response) == [
        ["OrgDefinedId", "Username", "Report Points Grade", "End-of-Line Indicator"],
        ["#s123456", "#alice", "2.50", "#"],
        ["", "#bob", "2.50", "#"],
        ["", "#charlie", "", "#"],
    ]


def test_the_instructor_gets_the_grade_log_with_comments_defused(graded, staff):
    response = staff.get(download_url(graded, "log.csv"))

    assert response["Content-Disposition"] == 'attachment; filename="C1-grade-log.csv"'
    header, entry = rows_of(response)
    assert header == GRADE_LOG_HEADER
    assert entry[1:7] == ["1", "3", "instructor", "graded", "", "2.50"]
    assert entry[GRADE_LOG_HEADER.index("comment after")] == "'=HYPERLINK(1)"


def test_names_that_look_like_formulas_are_defused(graded, group2, staff, django_user_model):
    Group.objects.filter(pk=group2.pk).update(name="-2+3")
    django_user_model.objects.filter(username="charlie").update(email="@SUM(1)")

    _, _, two = rows_of(staff.get(download_url(graded, "grades.csv")))

    assert two[1:3] == ["'-2+3", "'@SUM(1)"]


def test_a_code_with_a_slash_still_gives_a_plain_file_name(graded, staff):
    type(graded).objects.filter(pk=graded.pk).update(code="../x")

    response = staff.get(download_url(graded, "grades.csv"))

    assert response["Content-Disposition"] == 'attachment; filename="x-grades.csv"'


def test_an_unknown_kind_is_not_found(graded, staff):
    assert staff.get(download_url(graded, "grades.xlsx")).status_code == 404


@pytest.mark.parametrize("kind", ["grades.csv", "d2l.csv", "log.csv"])
def test_a_ta_of_the_graded_group_gets_404(graded, group1, django_user_model, kind):
    ta = django_user_model.objects.create_user("tara")
    CourseStaff.objects.create(course=graded, user=ta, role=StaffRole.TA)
    GroupGrader.objects.create(group=group1, user=ta)

    assert client_for("tara").get(download_url(graded, kind)).status_code == 404


def test_a_student_and_anyone_logged_out_get_nothing(graded, alice, client):
    assert alice.get(download_url(graded, "grades.csv")).status_code == 404
    response = client.get(download_url(graded, "d2l.csv"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def make_groups(course, instructor, count: int) -> None:
    """`count` groups of two members, each graded on question 1 (max 2) with one item and logged."""
    QuestionPoints.objects.create(course=course, number=1, max_points=Decimal("2"))
    item = RubricItem.objects.create(course=course, number=1, text="Item", points=Decimal("1"))
    for number in range(1, count + 1):
        group = Group.objects.create(course=course, number=number)
        for who in "ab":
            user = type(instructor).objects.create_user(f"{who}{number}", email=f"{who}{number}@example.org")
            Membership.objects.create(user=user, group=group, study_number=f"s{number}{who}")
        grade_save(group=group, number=1, items=[item], adjustment="0", comment="", base_version=0, user=instructor)


# every download: 1 the session, 2 the user, 3 the course with the user's role in it; then
QUERIES = {
    "grades.csv": 3 + 6,  # the graded questions, max points, grades, their items, the groups, their members
    "d2l.csv": 3 + 5,  # the graded questions, max points, grades, their items, the members with users and groups
    "log.csv": 3 + 1,  # the log entries with their grades' groups and users
}


@pytest.mark.parametrize("groups", [3, 30])
@pytest.mark.parametrize("kind", sorted(QUERIES))
def test_the_queries_do_not_grow_with_the_groups(course, instructor, staff, groups, kind, django_assert_num_queries):
    make_groups(course, instructor, groups)

    with django_assert_num_queries(QUERIES[kind]):
        response = staff.get(download_url(course, kind))

    assert len(rows_of(response)) == 1 + (2 * groups if kind == "d2l.csv" else groups)
