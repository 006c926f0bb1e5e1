"""An instructor edits a question's rubric from a grading page (rubric-edit): an item's text and points (the grades
applying it re-scored and logged), an item removed (only when no grade applies it), an item added (last); back to
the page with a message. Refused input changes nothing and comes back in its form; TAs see no such panel and get 404.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import assertContains, assertNotContains

from reports_app.models import Course, CourseStaff, Grade, GradeLog, GroupGrader, QuestionPoints, RubricItem, StaffRole
from reports_app.selectors.submissions import course_codes
from reports_app.services.grading import grade_save
from tests.conftest import client_for


@pytest.fixture
def rubric(course, group1, instructor, django_user_model) -> list[RubricItem]:
    """Question 1 worth 5 points, items +3 and -1; the instructor graded group 1 with the first (score 3); tara is a
    TA grading group 1."""
    QuestionPoints.objects.create(course=course, number=1, max_points=Decimal("5"))
    items = [
        RubricItem.objects.create(course=course, number=1, text="Explains the loop", points=Decimal("3"), position=1),
        RubricItem.objects.create(course=course, number=1, text="No caption", points=Decimal("-1"), position=2),
    ]
    grade_save(group=group1, number=1, items=items[:1], adjustment="0", comment="", base_version=0, user=instructor)
    tara = django_user_model.objects.create_user("tara", password="pw-tara")
    CourseStaff.objects.create(course=course, user=tara, role=StaffRole.TA)
    GroupGrader.objects.create(group=group1, user=tara)
    return items


def page_url(group) -> str:
    return reverse("grade", args=[group.course_id, course_codes(group.course)[group.pk], 1]) + "?by=group"


def edit(client, group, number: int = 1, **data):
    data.setdefault("next", page_url(group))
    return client.post(reverse("rubric-edit", args=[group.course_id, number]), data)


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def rubric_rows() -> list[tuple]:
    """Every rubric item of every course."""
    return list(RubricItem.objects.order_by("pk").values_list("course", "number", "text", "points", "position"))


def test_saving_new_points_rescores_the_grades_that_apply_it_logs_it_and_goes_back(rubric, group1):
    item = rubric[0]
    response = edit(
        client_for("instructor"), group1, action="save", item=item.pk, text="Explains the training loop", points="+2"
    )

    assert response.status_code == 302 and response["Location"] == page_url(group1)
    assert said(response) == ["Rubric item 'Explains the training loop' saved: 1 grade re-scored."]
    item.refresh_from_db()
    assert (item.text, item.points) == ("Explains the training loop", Decimal("2"))
    entry = GradeLog.objects.get(kind=GradeLog.Kind.ITEM_POINTS)
    assert (entry.score_before, entry.score_after) == (Decimal("3"), Decimal("2"))
    assertContains(client_for("instructor").get(page_url(group1)), '<span id="score">2</span>')


def test_a_text_change_alone_rescores_nothing(rubric, group1):
    response = edit(
        client_for("instructor"), group1, action="save", item=rubric[1].pk, text="Caption missing", points="-1"
    )

    assert said(response) == ["Rubric item 'Caption missing' saved: 0 grades re-scored."]
    assert RubricItem.objects.get(pk=rubric[1].pk).text == "Caption missing"
    assert not GradeLog.objects.filter(kind=GradeLog.Kind.ITEM_POINTS).exists()


def test_an_added_item_goes_last_with_its_points_as_written(rubric, group1, course):
    response = edit(client_for("instructor"), group1, action="add", text="Clear figure", points="-0.5")

    assert said(response) == ["Rubric item 'Clear figure' added."]
    added = RubricItem.objects.get(text="Clear figure")
    assert (added.course, added.number, added.points, added.position) == (course, 1, Decimal("-0.5"), 3)
    assertContains(client_for("tara").get(page_url(group1)), "<kbd>3</kbd> Clear figure")


def test_an_item_no_grade_applies_is_removed(rubric, group1):
    response = edit(client_for("instructor"), group1, action="remove", item=rubric[1].pk)

    assert said(response) == ["Rubric item 'No caption' removed."]
    assert list(RubricItem.objects.values_list("text", flat=True)) == ["Explains the loop"]


def test_an_item_a_grade_applies_is_not_removed_and_the_page_says_so(rubric, group1, course):
    page = client_for("instructor").get(page_url(group1))
    assertContains(page, "Applied in 1 grade: to stop it counting, set its points to 0 (it cannot be removed).")
    assertContains(page, 'value="remove"', count=1)  # only the item no grade applies
    before = rubric_rows()

    response = edit(client_for("instructor"), group1, action="remove", item=rubric[0].pk)

    assert said(response) == [
        "The rubric is not changed: 'Explains the loop' is applied in 1 grade; set its points to 0 instead."
    ]
    assert rubric_rows() == before and Grade.objects.get().items.count() == 1


BAD = [
    (
        {"action": "save", "text": "Explains it", "points": "2,5"},
        "Points must be a number with at most 2 decimal places",
    ),
    ({"action": "save", "text": "   ", "points": "2"}, "A rubric item needs a text."),
    ({"action": "add", "text": "Clear figure", "points": "2,5"}, "not '2,5'"),
    ({"action": "add", "text": "", "points": "1"}, "A rubric item needs a text."),
    ({"action": "add", "text": "x" * 201, "points": "1"}, "at most 200 characters (this one has 201)"),
    ({"action": "add", "text": "Clear", "points": "0.125"}, "at most 2 decimal places"),
    ({"action": "fly", "text": "Clear", "points": "1"}, "the form sent no action"),
]


@pytest.mark.parametrize(("data", "why"), BAD)
def test_bad_input_changes_nothing_says_why_and_comes_back_in_its_form(rubric, group1, course, data, why):
    staff = client_for("instructor")
    before = (rubric_rows(), list(GradeLog.objects.values_list("pk", flat=True)))
    if data["action"] == "save":
        data = data | {"item": rubric[0].pk}

    response = edit(staff, group1, **data)

    assert response.status_code == 302 and response["Location"] == page_url(group1)
    (message,) = said(response)
    assert message.startswith("The rubric is not changed: ") and why in message
    assert (rubric_rows(), list(GradeLog.objects.values_list("pk", flat=True))) == before
    page = staff.get(page_url(group1))
    if data["action"] != "fly":  # what was typed is in the form again, the panel open
        assertContains(page, f'value="{escape(data["points"])}"')
        if data["text"].strip():
            assertContains(page, f'value="{escape(data["text"])}"')
        assertContains(page, '<details class="mt-3" id="rubric-edit" open>')
    assertNotContains(staff.get(page_url(group1)), 'id="rubric-edit" open')  # once


@pytest.mark.parametrize("where", ["another question", "another course", "not a number"])
def test_an_item_of_another_question_or_course_is_not_found(rubric, group1, course, where):
    if where == "another question":
        pk = RubricItem.objects.create(course=course, number=2, text="Q2", points=1).pk
    elif where == "another course":
        other = Course.objects.create(code="C2", template=course.template)
        pk = RubricItem.objects.create(course=other, number=1, text="Other", points=1).pk
    else:
        pk = "1e3"
    before = rubric_rows()

    response = edit(client_for("instructor"), group1, action="save", item=pk, text="Mine now", points="9")

    assert response.status_code == 404
    assert rubric_rows() == before


def test_a_ta_sees_no_panel_and_is_not_found(rubric, group1, course):
    tara = client_for("tara")
    page = tara.get(page_url(group1))
    before = rubric_rows()

    response = edit(tara, group1, action="add", text="Mine", points="1")

    assertContains(page, "Explains the loop")
    assertNotContains(page, "Edit the rubric")
    assertContains(client_for("instructor").get(page_url(group1)), "Edit the rubric of question 1")
    assert response.status_code == 404 and rubric_rows() == before


@pytest.mark.parametrize("back", ["https://evil.example/grading/", "//evil.example/", ""])
def test_a_next_to_another_host_goes_to_the_grading_overview(rubric, group1, back):
    response = edit(client_for("instructor"), group1, action="add", text="Clear figure", points="1", next=back)

    assert response["Location"] == reverse("grading", args=[group1.course_id])
    assert RubricItem.objects.filter(text="Clear figure").exists()
