"""The grading overview page: a TA sees only their groups, an anonymous course shows a TA codes and nothing that
names a group, cells link to their grading pages, filters, the start link, the instructors' area."""

from decimal import Decimal
from urllib.parse import urljoin

import pytest
from django.urls import reverse

from reports_app.models import CourseStaff, Grade, GroupGrader, Membership, QuestionPoints, StaffRole
from reports_app.selectors.submissions import course_codes
from tests.conftest import client_for


@pytest.fixture
def world(course, group1, group2, instructor, django_user_model):
    """Questions 1 and 2 worth 2 points; group 1 (Herons, a repo, alice and bob with e-mail addresses) graded on
    question 1; tara grades group 1."""
    for number in (1, 2):
        QuestionPoints.objects.create(course=course, number=number, max_points=Decimal("2"))
    group1.name, group1.repo_url = "Herons", "https://github.com/herons-team/mlops-repo"
    group1.save()
    group2.name = "Kestrels"
    group2.save()
    for membership in Membership.objects.select_related("user"):
        membership.user.email = f"{membership.user.username}@mail.example.org"
        membership.user.first_name = membership.user.username.title() + "ina"
        membership.user.save()
        membership.study_number = f"s99{membership.user.pk:04d}"
        membership.save()
    Grade.objects.create(group=group1, number=1, version=1, adjustment=Decimal("1.5"))
    tara = django_user_model.objects.create_user("tara", first_name="Tara")
    CourseStaff.objects.create(course=course, user=tara, role=StaffRole.TA)
    GroupGrader.objects.create(group=group1, user=tara)
    return course


def page(client, course, query: str = "") -> str:
    response = client.get(reverse("grading", args=[course.pk]) + query)
    assert response.status_code == 200
    return response.content.decode()


def grade_url(course, group, number: int) -> str:
    return reverse("grade", args=[course.pk, course_codes(course)[group.pk], number])


def cell_link(course, group, number: int) -> str:
    """A cell's link as the page writes it: relative to the overview's URL, it is the grading page's."""
    href = f"{course_codes(course)[group.pk]}/{number}/"
    assert urljoin(reverse("grading", args=[course.pk]), href) == grade_url(course, group, number)
    return f'href="{href}"'


def test_a_ta_sees_only_the_groups_assigned_to_them(world, group1, group2):
    html = page(client_for("tara"), world)

    assert cell_link(world, group1, 1) in html and cell_link(world, group1, 2) in html
    assert cell_link(world, group2, 1) not in html and "Kestrels" not in html
    assert "Group 1 · Herons" in html
    assert 'id="instructors"' not in html and "export" not in html


def test_the_instructor_sees_every_group_with_cells_linking_to_their_grading_pages(world, staff, group1, group2):
    html = page(staff, world)

    for group in (group1, group2):
        for number in (1, 2):
            assert cell_link(world, group, number) in html
    assert 'title="Question 1: graded, 1.5 of 2">G</a>' in html
    assert 'title="Question 2: not graded (2 points)">U</a>' in html
    assert 'Graded <strong id="overall">1 of 4</strong> (25%)' in html
    for kind in ("grades.csv", "d2l.csv", "log.csv"):
        assert reverse("export-grades", args=[world.pk, kind]) in html
    assert reverse("reveal-groups", args=[world.pk]) not in html  # not an anonymous course


def test_start_grading_goes_to_the_lowest_ungraded_question(world, staff, group1, group2):
    html = page(staff, world)

    # question 1 is ungraded for group 2 only; question 2 for both
    assert f'id="start-grading" href="{grade_url(world, group2, 1)}"' in html


def test_filters_keep_the_submissions_with_an_ungraded_question_or_mine(world, staff, group1, group2, instructor):
    Grade.objects.create(group=group1, number=2, version=1)
    GroupGrader.objects.create(group=group2, user=instructor)

    html = page(staff, world, "?ungraded=on")
    assert "Group 2 · Kestrels" in html and "Group 1 · Herons" not in html
    assert 'name="ungraded" class="form-check-input" id="id_ungraded" checked' in html

    html = page(staff, world, "?mine=on&flagged=on")
    assert "No submission matches these filters." in html


def test_an_anonymous_course_shows_a_ta_codes_and_nothing_that_names_a_group(world, group1):
    world.anonymous_grading = True
    world.save()

    html = page(client_for("tara"), world)

    code = course_codes(world)[group1.pk]
    assert f"Submission {code}" in html and cell_link(world, group1, 1) in html
    leaks = ["Herons", "Kestrels", "Group 1", "Group 2", "herons-team", "github.com", "mail.example.org", "s99"]
    leaks += ["alice", "Alice", "bob", "Bob", reverse("report", args=[group1.pk])]
    assert [leak for leak in leaks if leak in html] == []


def test_an_instructor_of_an_anonymous_course_may_reveal_the_groups(world, staff, group1):
    world.anonymous_grading = True
    world.save()

    html = page(staff, world)

    assert f"Submission {course_codes(world)[group1.pk]}" in html and "Herons" not in html
    assert f'action="{reverse("reveal-groups", args=[world.pk])}"' in html


def test_a_course_without_points_says_where_to_set_them(course, staff, group1):
    html = page(staff, course)

    assert 'id="no-questions"' in html


@pytest.mark.parametrize("extra", [0, 20])
def test_the_page_takes_the_same_queries_however_many_groups(world, staff, extra, django_assert_num_queries):
    from reports_app.models import Group

    for n in range(extra):
        group = Group.objects.create(course=world, number=10 + n)
        Grade.objects.create(group=group, number=2, version=1)

    # 1 the session, 2 the user, 3 the course with the user's role, then the overview's 7 (selectors/grading_overview),
    # 11 the course's mails by status (the release panel)
    with django_assert_num_queries(11):
        html = page(staff, world)
    assert html.count('class="grade-cell') == 2 * (2 + extra)


def test_the_dashboard_and_the_home_page_link_the_overview(world, staff):
    grading = f'href="{reverse("grading", args=[world.pk])}"'

    assert grading in staff.get(reverse("dashboard", args=[world.pk])).content.decode()
    assert grading in client_for("tara").get(reverse("home")).content.decode()
