import re
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

from reports_app.models import Course, Group, Membership, Report, ReportTemplate


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_the_demo_course_and_prints_working_logins(db):
    out = seed()
    assert out.startswith("Demo course DEMO00000 created. Logins:")
    course = Course.objects.get(code="DEMO00000")
    assert course.template.name == "demo-v1"
    assert course.deadline is not None
    assert list(Group.objects.filter(course=course).values_list("number", flat=True)) == [1, 2, 3]
    assert Report.objects.filter(group__course=course).count() == 3
    instructor = get_user_model().objects.get(username="instructor")
    assert instructor.is_staff and instructor.check_password("instructor-demo")
    assert "alice      alice-demo         group 1" in out
    assert get_user_model().objects.get(username="alice").check_password("alice-demo")


def test_seed_demo_twice_changes_nothing(db):
    seed()
    counts = [m.objects.count() for m in (ReportTemplate, Course, Group, Membership, Report, get_user_model())]
    out = seed()
    assert out.startswith("Demo course DEMO00000 already there.")
    assert [m.objects.count() for m in (ReportTemplate, Course, Group, Membership, Report, get_user_model())] == counts


def test_seed_demo_sets_a_join_code_that_signs_a_group_up_prints_it_and_keeps_it(db, client):
    out = seed()
    code = Course.objects.get(code="DEMO00000").join_code
    assert re.fullmatch(r"demo-[0-9a-f]{8}", code)
    assert out.splitlines()[-1] == f"Join code of DEMO00000: {code} (a group signs itself up at /join/)"

    assert seed().splitlines()[-1] == out.splitlines()[-1]  # a code handed out stays valid

    data = {"code": code, "repo_url": "https://github.com/demo/four"}
    for i in (1, 2, 3):
        data |= {f"email_{i}": f"m{i}@example.com", f"name_{i}": f"M {i}", f"study_number_{i}": f"s28000{i}"}
    assertContains(client.post(reverse("join"), data), "Group 4 is signed up")


def test_seed_demo_has_a_ta_who_sees_their_two_groups_only(db, client):
    out = seed()
    seed()  # twice: still one role, two assignments
    assert "ta         ta-demo            TA of groups 1 and 2" in out
    assert client.login(username="ta", password="ta-demo")
    groups = {g.number: g.pk for g in Group.objects.filter(course__code="DEMO00000")}
    assert [client.get(reverse("report", args=[groups[n]])).status_code for n in (1, 2, 3)] == [200, 200, 404]
    dashboard = client.get(reverse("dashboard", args=[Course.objects.get(code="DEMO00000").pk]))
    assert dashboard.status_code == 200 and "Team 1" in dashboard.content.decode()
    assert "Team 3" not in dashboard.content.decode()


def test_seed_demo_gives_every_question_points_and_a_rubric_the_ta_grades_with_once(db):
    from reports_app.models import QuestionPoints, RubricItem
    from reports_app.selectors.submissions import course_codes

    out = seed()
    course = Course.objects.get(code="DEMO00000")
    questions = course.template.questions.count()
    assert f"Grading: /courses/{course.pk}/grading/" in out
    assert QuestionPoints.objects.filter(course=course, max_points=2).count() == questions
    assert RubricItem.objects.filter(course=course).count() == 3 * questions
    seed()
    assert RubricItem.objects.filter(course=course).count() == 3 * questions
    ta = Client()
    assert ta.login(username="ta", password="ta-demo")
    group = Group.objects.get(course=course, number=1)
    page = ta.get(reverse("grade", args=[course.pk, course_codes(course)[group.pk], 1]))
    assertContains(page, "Answers what is asked")
