"""The grading page of one (submission, question): what a grader sees (the answer as graded, the checker, the rubric),
autosave with optimistic locking, "changed since graded", anonymous grading, who may open it, and its queries."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from reports_app.models import (
    AnswerRevision,
    CourseStaff,
    Grade,
    GradeLog,
    Group,
    GroupGrader,
    Membership,
    QuestionPoints,
    RubricItem,
    StaffRole,
)
from reports_app.selectors.submissions import course_codes
from reports_app.services.answers import answer_save
from reports_app.services.figures import figure_add
from reports_app.services.reports import report_for_group
from tests.conftest import client_for, png_bytes

JSON = {"HTTP_ACCEPT": "application/json"}
ANSWER = "We trained the model with ![loss](figures/loss.png) a plain loop."


@pytest.fixture
def grading(course, group1, group2, instructor, django_user_model):
    """Questions 1 and 2 worth 5 points, two rubric items on question 1; tara grades group 1, theo group 2; group 1
    answered question 1 with a figure."""
    for number in (1, 2):
        QuestionPoints.objects.create(course=course, number=number, max_points=Decimal("5"))
    items = [
        RubricItem.objects.create(course=course, number=1, text="Explains the loop", points=Decimal("3"), position=1),
        RubricItem.objects.create(course=course, number=1, text="No figure caption", points=Decimal("-1"), position=2),
    ]
    for username, group in (("tara", group1), ("theo", group2)):
        ta = django_user_model.objects.create_user(username, password=f"pw-{username}", first_name=username.title())
        CourseStaff.objects.create(course=course, user=ta, role=StaffRole.TA)
        GroupGrader.objects.create(group=group, user=ta)
    report = report_for_group(group1)
    report_for_group(group2)
    alice = django_user_model.objects.get(username="alice")
    figure_add(report=report, data=png_bytes(), wanted_name="loss.png", user=alice)
    question = course.template.questions.get(number=1)
    answer_save(report=report, question=question, text=ANSWER, base_version=0, user=alice)
    return items


def code_of(group: Group) -> str:
    return course_codes(group.course)[group.pk]


def grade_url(group: Group, number: int = 1) -> str:
    return reverse("grade", args=[group.course_id, code_of(group), number])


def post_grade(client: Client, group: Group, *, items=(), adjustment="0", comment="", version=0, number=1, **extra):
    revision = AnswerRevision.objects.filter(answer__report__group=group, answer__question__number=number).first()
    data = {"items": [i.pk for i in items], "adjustment": adjustment, "comment": comment, "version": version}
    data["revision"] = revision.pk if revision else ""
    return client.post(grade_url(group, number), data, **(JSON | extra))


def test_the_grader_sees_the_answer_its_figure_the_checker_and_the_rubric(grading, group1):
    page = client_for("tara").get(grade_url(group1))

    assert page.status_code == 200
    html = page.content.decode()
    assert "a plain loop" in html and "Explains the loop" in html and "No figure caption" in html
    assert "Course checker:" in html and "Graded text: version 1" in html
    figure = reverse("grading-figure", args=[group1.course_id, code_of(group1), "loss.png"])
    assert f'src="{figure}"' in html
    assert client_for("tara").get(figure)["Content-Type"] == "image/png"
    assert client_for("theo").get(figure).status_code == 404


def test_autosave_saves_scores_and_logs(grading, group1):
    response = post_grade(client_for("tara"), group1, items=grading, adjustment="0.5", comment="Clear *loop*")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["score"] == "2.5" and data["grade"]["version"] == 1
    assert data["grade"]["graded_by"] == "Tara"
    assert "History of this grade (1 change)" in data["history_html"]
    grade = Grade.objects.get(group=group1, number=1)
    assert grade.revision.text == ANSWER
    assert GradeLog.objects.filter(grade=grade).count() == 1


def test_two_graders_on_the_same_version_never_overwrite_each_other(grading, group1, instructor):
    tara = client_for("tara")
    assert post_grade(tara, group1, items=grading[:1], comment="Tara's view").status_code == 200

    late = post_grade(client_for("instructor"), group1, items=grading[1:], comment="Mine", version=0)

    assert late.status_code == 409
    assert late.json()["grade"] == {
        "version": 1,
        "items": [grading[0].pk],
        "adjustment": "0.00",
        "comment": "Tara's view",
        "graded_by": "Tara",
        "graded_at": late.json()["grade"]["graded_at"],
    }
    assert "Tara saved this grade meanwhile (version 1)" in late.json()["error"]
    assert Grade.objects.get(group=group1, number=1).comment == "Tara's view"
    again = post_grade(client_for("instructor"), group1, items=grading[1:], comment="Mine", version=1)
    assert again.status_code == 200 and Grade.objects.get(group=group1, number=1).comment == "Mine"


def test_bad_points_are_refused_with_why_and_nothing_changes(grading, group1):
    response = post_grade(client_for("tara"), group1, adjustment="lots")

    assert response.status_code == 400
    assert "The adjustment must be a number" in response.json()["error"]
    assert not Grade.objects.filter(group=group1).exists()


def test_an_item_of_another_question_is_refused(grading, group1, course):
    other = RubricItem.objects.create(course=course, number=2, text="Other", points=Decimal("1"))
    response = post_grade(client_for("tara"), group1, items=[other])

    assert response.status_code == 400 and "is not an item of this question's rubric" in response.json()["error"]


def test_without_javascript_the_save_button_posts_and_comes_back(grading, group1):
    tara = client_for("tara")
    response = tara.post(grade_url(group1), {"items": [grading[0].pk], "adjustment": "0", "version": "0"})

    assert response.status_code == 302 and response["Location"] == grade_url(group1)
    assert "Grade saved." in tara.get(grade_url(group1)).content.decode()


@pytest.mark.parametrize("who", ["theo", "charlie", "alice"])
def test_anyone_but_its_graders_and_instructors_gets_404(grading, group1, who):
    client = client_for(who)

    assert client.get(grade_url(group1)).status_code == 404
    assert post_grade(client, group1, items=grading).status_code == 404
    assert not Grade.objects.exists()


def test_a_group_number_or_unknown_code_in_the_url_is_not_found(grading, group1):
    tara = client_for("tara")

    assert tara.get(reverse("grade", args=[group1.course_id, "1", 1])).status_code == 404
    assert tara.get(reverse("grade", args=[group1.course_id, "ZZZZZZ", 1])).status_code == 404
    assert tara.get(grade_url(group1).replace(code_of(group1), code_of(group1).lower())).status_code == 200


def test_an_edit_after_grading_flags_the_grade_with_a_word_diff(grading, group1, course):
    tara = client_for("tara")
    assert post_grade(tara, group1, items=grading[:1]).status_code == 200
    report = group1.report
    answer = report.answers.get(question__number=1)
    new = ANSWER.replace("a plain loop", "a custom loop")
    answer_save(report=report, question=answer.question, text=new, base_version=1, user=answer.updated_by)

    html = tara.get(grade_url(group1)).content.decode()

    assert "Changed since graded." in html
    assert '<del class="diff-del">plain</del><ins class="diff-add">custom</ins>' in html
    seen = post_grade(tara, group1, items=grading[:1], version=1)  # saved on the new text: not flagged
    assert seen.status_code == 200 and "Changed since graded." not in tara.get(grade_url(group1)).content.decode()


def test_navigation_follows_the_order(grading, group1, group2, course, instructor):
    staff = client_for("instructor")
    first, second = sorted([group1, group2], key=lambda g: g.number)

    page = staff.get(grade_url(first)).content.decode()
    assert f'id="next-submission" href="{grade_url(second)}"' in page
    assert f'id="next-question" href="{grade_url(first, 2)}"' in page
    assert 'id="previous-submission"' not in page
    by_group = staff.get(grade_url(first) + "?by=group").content.decode()
    assert f'id="next-ungraded" href="{grade_url(first, 2)}?by=group"' in by_group
    by_question = staff.get(grade_url(first)).content.decode()
    assert f'id="next-ungraded" href="{grade_url(second)}"' in by_question


# --- anonymous grading --------------------------------------------------------------------------------------------


@pytest.fixture
def anonymous(grading, course, group1):
    course.anonymous_grading = True
    course.save()
    group1.name, group1.repo_url = "Herons", "https://github.com/herons/mlops"
    group1.save()
    alice = Membership.objects.get(group=group1, user__username="alice").user
    alice.email, alice.first_name, alice.last_name = "alice@example.com", "Alice", "Liddell"
    alice.save()
    return course


def identities(text: str, group: Group) -> list[str]:
    found = [
        secret for secret in ("Herons", "alice@example.com", "Alice", "Liddell", "github.com/herons") if secret in text
    ]
    found += re.findall(rf"Group {group.number}\b|/groups/{group.pk}/", text)
    return found


def test_anonymous_grading_shows_a_ta_a_code_and_nothing_of_the_group(anonymous, group1, grading):
    tara = client_for("tara")

    page = tara.get(grade_url(group1)).content.decode()
    saved = post_grade(tara, group1, items=grading, comment="ok").content.decode()

    assert f"Submission {code_of(group1)}" in page
    assert identities(page, group1) == [] and identities(saved, group1) == []
    assert tara.get(reverse("report", args=[group1.pk])).status_code == 404
    assert tara.get(reverse("dashboard-csv", args=[group1.course_id])).status_code == 404
    assert tara.get(reverse("dashboard", args=[group1.course_id]))["Location"] == reverse(
        "grading", args=[group1.course_id]
    )


def test_an_instructor_reveals_and_hides_the_groups(anonymous, group1, instructor):
    staff = client_for("instructor")
    assert "Submission" in staff.get(grade_url(group1)).content.decode()

    reveal = staff.post(reverse("reveal-groups", args=[group1.course_id]), {"reveal": "1", "next": grade_url(group1)})

    assert reveal["Location"] == grade_url(group1)
    assert "Group 1 · Herons" in staff.get(grade_url(group1)).content.decode()
    assert (
        client_for("tara").post(reverse("reveal-groups", args=[group1.course_id]), {"reveal": "1"}).status_code == 404
    )
    staff.post(reverse("reveal-groups", args=[group1.course_id]), {"reveal": "0", "next": "https://evil.example/"})
    assert "Herons" not in staff.get(grade_url(group1)).content.decode()


# --- queries ------------------------------------------------------------------------------------------------------


def _course_of(course, groups: int, questions: int, instructor):
    for number in range(3, questions + 1):
        QuestionPoints.objects.create(course=course, number=number, max_points=Decimal("2"))
    for number in range(3, groups + 1):
        group = Group.objects.create(course=course, number=number)
        report_for_group(group)
        Grade.objects.create(group=group, number=1, version=1)


@pytest.mark.parametrize("who", ["instructor", "tara"])
@pytest.mark.parametrize(("groups", "questions"), [(3, 2), (30, 10)])
def test_the_page_makes_the_same_queries_however_big_the_course(
    grading, group1, course, instructor, groups, questions, who, django_assert_num_queries
):
    _course_of(course, groups, questions, instructor)
    post_grade(client_for("instructor"), group1, items=grading, comment="x")
    staff = client_for(who)
    staff.get(grade_url(group1))  # the session and the user are read once per request, like any page
    # session, user; the course with the role, the groups' ids (codes), the group by code; the report, the question,
    # the max points, the deadline scrape, the revision graded, the figures' names, is it the last question, the
    # grade with grader and revision, its items, its log, the rubric (for an instructor, who may edit it, with how
    # many grades apply each item: the same query), the regrades; navigation: the user's groups, the grades saved
    # on them
    with django_assert_num_queries(20):
        assert staff.get(grade_url(group1)).status_code == 200


def test_nothing_a_ta_gets_in_an_anonymous_course_names_the_group(anonymous, group1, grading, django_user_model):
    """Every page, JSON answer and redirect a TA meets while grading: the home page, the overview (with each filter),
    the grading page with its history and an open regrade request, its autosave, a conflict, answering the request."""
    from datetime import timedelta

    from django.utils import timezone

    from reports_app.services.feedback import regrade_request

    tara, course = client_for("tara"), group1.course
    assert post_grade(tara, group1, items=grading[:1], comment="Good").status_code == 200
    course.grades_released_at, course.regrades_until = timezone.now(), timezone.now() + timedelta(days=3)
    course.save()
    alice = django_user_model.objects.get(username="alice")
    request = regrade_request(grade=Grade.objects.get(group=group1, number=1), user=alice, reason="Please look again")
    overview = reverse("grading", args=[course.pk])

    seen = [
        tara.get(reverse("home")).content.decode(),
        *(tara.get(overview, {f: "on"} if f else {}).content.decode() for f in ("", "mine", "ungraded", "flagged")),
        tara.get(grade_url(group1)).content.decode(),
        post_grade(tara, group1, items=grading, comment="Better", version=1).content.decode(),
        post_grade(tara, group1, items=[], comment="Stale", version=1).content.decode(),  # 409
    ]
    answered = tara.post(reverse("answer-regrade", args=[course.pk, request.pk]), {"response": "Looked again"})
    seen += [answered["Location"], tara.get(answered["Location"]).content.decode()]

    assert "Please look again" in seen[5] and "Looked again" in seen[-1]
    assert [identities(text, group1) + [s for s in ("alice", "bob") if s in text] for text in seen] == [[]] * len(seen)


def test_a_grade_by_an_account_deleted_since_says_someone(grading, group1, django_user_model, instructor):
    assert post_grade(client_for("tara"), group1, items=grading[:1]).status_code == 200
    django_user_model.objects.get(username="tara").delete()

    html = client_for("instructor").get(grade_url(group1)).content.decode()

    assert "· graded by someone" in html and "· someone ·" in html
