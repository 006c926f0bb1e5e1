import re

import pytest
from django.urls import reverse

from reports_app.models import Course, CourseStaff, Group, GroupGrader, Job, Membership, StaffRole
from reports_app.services.reports import report_import
from tests.conftest import read_fixture


def test_anonymous_goes_to_login(client, db):
    assert client.get(reverse("home"))["Location"] == f"{reverse('login')}?next=/"


def test_a_student_in_one_group_lands_on_its_report(alice, group1):
    assert alice.get(reverse("home"))["Location"] == reverse("report", args=[group1.pk])


def test_a_student_in_several_courses_picks_one(alice, group1, demo_template, django_user_model):
    other = Group.objects.create(course=Course.objects.create(code="C2", template=demo_template), number=7)
    Membership.objects.create(user=django_user_model.objects.get(username="alice"), group=other)
    html = alice.get(reverse("home")).content.decode()
    assert reverse("report", args=[group1.pk]) in html and reverse("report", args=[other.pk]) in html
    assert "C2" in html and "group 7" in html


def test_a_user_without_group_is_told_what_to_do(client, django_user_model, db):
    client.force_login(django_user_model.objects.create_user("loner", password="x"))
    assert "You are not in any group yet." in client.get(reverse("home")).content.decode()


# --- the staff home page: every course with its counts, no wall of group links -------------------------------------


def course_row(html: str, course) -> str:
    row = html[html.index(f'<tr id="course-{course.pk}">') :]
    return row[: row.index("</tr>")]


def cell(row: str, name: str) -> str:
    """The text of the row's cell of class `name` (a count, perhaps inside a link to the dashboard's filter)."""
    text = row[row.index(f'class="text-end {name}">') :]
    return re.sub(r"<[^>]+>", "", text[text.index(">") + 1 : text.index("</td>")]).strip()


def test_staff_see_each_course_with_its_counts_and_links(staff, group1, group2, demo_template):
    group2.repo_url = "https://github.com/acme/two"
    group2.save()
    other = Course.objects.create(code="C2", title="Course two", template=demo_template)

    html = staff.get(reverse("home")).content.decode()

    row = course_row(html, group1.course)
    assert [cell(row, name) for name in ("groups", "passing", "not-answered", "never-scraped", "late")] == [
        "2", "0", "2", "1", "0"
    ]  # fmt: skip
    dashboard = reverse("dashboard", args=[group1.course.pk])
    assert f'href="{dashboard}"' in row and f'href="{dashboard}?never_scraped=on"' in row
    assert f'href="{reverse("course-jobs", args=[group1.course.pk])}"' in row
    assert "Course one" in row
    assert f'<tr id="course-{other.pk}">' not in html  # a course they have no role in
    assert reverse("report", args=[group1.pk]) not in html  # no wall of group links
    assert "groups whose README the course checker passes on every question" in html  # what "passing" means


def test_the_admin_link_is_for_staff_who_may_use_the_admin(staff, admin_client, course):
    admin_page = reverse("admin:reports_app_course_change", args=[course.pk])
    assert admin_page not in staff.get(reverse("home")).content.decode()  # the instructor has no model permission
    assert admin_page in admin_client.get(reverse("home")).content.decode()


def test_a_course_with_a_job_in_progress_says_so(staff, course):
    Job.objects.create(kind="export", course=course)
    assert "1 in progress" in course_row(staff.get(reverse("home")).content.decode(), course)


def test_staff_in_a_group_see_their_group_and_every_course(staff, course, instructor):
    group = Group.objects.create(course=course, number=9)
    Membership.objects.create(user=instructor, group=group)
    html = staff.get(reverse("home")).content.decode()
    assert reverse("report", args=[group.pk]) in html and f'<tr id="course-{course.pk}">' in html


def add_groups(course, first: int, count: int) -> None:
    for number in range(first, first + count):
        group = Group.objects.create(course=course, number=number, repo_url=f"https://github.com/acme/g{number}")
        report_import(group=group, text=read_fixture("filled.md"), template=course.template, label="test")


@pytest.mark.timeout(120)
def test_the_queries_do_not_grow_with_courses_or_groups(
    staff, course, instructor, demo_template, django_assert_num_queries
):
    add_groups(course, 1, 3)
    # session, user, the user's groups, whether they have a course role, courses with their role and jobs in
    # progress, groups they see with report and last scrape, templates, questions, answers, checklist marks, the
    # user's permissions and their groups' (the Admin link)
    with django_assert_num_queries(12):
        response = staff.get(reverse("home"))
    assert [c.groups for c in response.context["courses"]] == [3]

    add_groups(course, 4, 27)
    for code in ("C2", "C3"):
        other = Course.objects.create(code=code, template=demo_template)
        CourseStaff.objects.create(course=other, user=instructor, role=StaffRole.INSTRUCTOR)
        add_groups(other, 1, 30)
    add_groups(Course.objects.create(code="C4", template=demo_template), 1, 5)  # not theirs
    with django_assert_num_queries(12):
        response = staff.get(reverse("home"))
    assert [c.groups for c in response.context["courses"]] == [30, 30, 30]


def make_ta(course, username: str, numbers: list[int], django_user_model):
    """A TA of the course assigned to its groups of these numbers, and a client logged in as them."""
    from django.test import Client

    ta = django_user_model.objects.create_user(username, password="x")
    CourseStaff.objects.create(course=course, user=ta, role=StaffRole.TA)
    for group in course.groups.filter(number__in=numbers):
        GroupGrader.objects.create(group=group, user=ta)
    client = Client()
    client.force_login(ta)
    return client


@pytest.mark.timeout(120)
def test_a_tas_counts_cover_their_groups_in_fixed_queries(course, django_user_model, django_assert_num_queries):
    add_groups(course, 1, 4)
    ta = make_ta(course, "tara", [2, 3], django_user_model)
    # session, user, the user's groups, whether they have a course role, courses with their role and jobs in
    # progress, the groups they see, templates, questions, answers, checklist marks (no Admin link: no permissions
    # asked)
    with django_assert_num_queries(10):
        response = ta.get(reverse("home"))
    (counts,) = response.context["courses"]
    assert (counts.groups, counts.never_scraped) == (2, 2)
    html = response.content.decode()
    assert 'class="small fw-normal role">TA<' in html
    assert reverse("course-jobs", args=[course.pk]) not in html  # jobs are the instructors'

    add_groups(course, 5, 20)
    GroupGrader.objects.bulk_create(
        GroupGrader(group=group, user=response.context["user"]) for group in course.groups.filter(number__gte=5)
    )
    with django_assert_num_queries(10):
        response = ta.get(reverse("home"))
    assert [c.groups for c in response.context["courses"]] == [22]


def test_staff_without_a_course_role_see_no_course(client, course, django_user_model):
    client.force_login(django_user_model.objects.create_user("staffer", password="x", is_staff=True))
    html = client.get(reverse("home")).content.decode()
    assert 'id="courses"' not in html and "You are not in any group yet." in html
