"""Grading in chromium: a whole pass by keyboard alone (rubric keys, a comment, moving on saves first), and two
graders on the same grade at once (the second sees the first's grade and decides; nothing is overwritten silently)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from reports_app.models import CourseStaff, Grade, GradeLog, Group, GroupGrader, QuestionPoints, RubricItem, StaffRole
from reports_app.selectors.submissions import course_codes
from reports_app.services.answers import answer_save
from reports_app.services.reports import report_for_group
from tests.helpers.pages import log_in_as


@pytest.fixture
def to_grade(course, group1, group2, instructor, django_user_model):
    """Groups 1-3 answered questions 1 and 2 (worth 4 points, two rubric items each); tara grades all three."""
    groups = [group1, group2, Group.objects.create(course=course, number=3)]
    tara = django_user_model.objects.create_user("tara", first_name="Tara")
    CourseStaff.objects.create(course=course, user=tara, role=StaffRole.TA)
    for number in (1, 2):
        QuestionPoints.objects.create(course=course, number=number, max_points=Decimal("4"))
        RubricItem.objects.create(course=course, number=number, text=f"Q{number} right", points=3, position=1)
        RubricItem.objects.create(course=course, number=number, text=f"Q{number} careful", points=1, position=2)
    for group in groups:
        GroupGrader.objects.create(group=group, user=tara)
        report = report_for_group(group)
        for question in course.template.questions.filter(number__in=(1, 2)):
            text = f"Group {group.number} answers question {question.number} at length."
            answer_save(report=report, question=question, text=text, base_version=0, user=None)
    return groups


def first_url(live_server, course, groups) -> str:
    codes = course_codes(course)
    first = min(groups, key=lambda g: codes[g.pk])  # no group is revealed: they come in the order of their codes
    return live_server.url + reverse("grade", args=[course.pk, codes[first.pk], 1])


@pytest.mark.timeout(120)
def test_a_whole_grading_pass_by_keyboard_alone(page, live_server, course, to_grade):
    log_in_as(page, live_server, "tara")
    page.goto(first_url(live_server, course, to_grade))

    for cell in range(6):  # 3 submissions x 2 questions, question by question
        expect(page.locator("#save-status")).to_have_text("")
        page.keyboard.press("1")
        expect(page.locator("#save-status")).to_have_text("Saved (version 1).")
        expect(page.locator("#score")).to_have_text("3")
        if cell == 0:
            page.keyboard.press("c")
            page.keyboard.type("Clear, *well* argued.")
            page.keyboard.press("Escape")
        if cell < 5:
            page.keyboard.press("u")  # the comment typed just now is saved before the page is left
            expect(page.locator("#save-status")).to_have_text("")
    expect(page.locator("#next-ungraded")).to_have_count(0)

    grades = Grade.objects.filter(version__gt=0)
    assert sorted((g.group.number, g.number) for g in grades) == [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)]
    assert {tuple(g.items.values_list("text", flat=True)) for g in grades} == {("Q1 right",), ("Q2 right",)}
    commented = grades.exclude(comment="")
    assert [g.comment for g in commented] == ["Clear, *well* argued."] and commented[0].number == 1


def tara_saved_before_the_instructor(new_page, live_server, course, groups) -> Page:
    """Tara and the instructor opened the same grading page; Tara applied item 1 (saved). The instructor's page."""
    tara, boss = new_page(), new_page()
    log_in_as(tara, live_server, "tara")
    log_in_as(boss, live_server, "instructor")
    url = first_url(live_server, course, groups)
    tara.goto(url)
    boss.goto(url)
    tara.keyboard.press("1")
    expect(tara.locator("#save-status")).to_have_text("Saved (version 1).")
    return boss


@pytest.mark.timeout(120)
def test_two_graders_on_the_same_grade_see_each_other_and_decide(new_page, live_server, course, to_grade):
    boss = tara_saved_before_the_instructor(new_page, live_server, course, to_grade)

    boss.keyboard.press("2")

    conflict = boss.locator("#grade-conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Tara saved this grade meanwhile (version 1)")
    expect(conflict).to_contain_text("Q1 careful")  # what the instructor had chosen, shown before they decide
    expect(boss.get_by_label("Q1 right")).to_be_checked()  # theirs is in the form now
    expect(boss.get_by_label("Q1 careful")).not_to_be_checked()
    boss.get_by_role("button", name="Save mine over theirs").click()
    expect(boss.locator("#save-status")).to_have_text("Saved (version 2).")

    grade = Grade.objects.get(version=2)
    assert list(grade.items.values_list("text", flat=True)) == ["Q1 careful"]
    assert GradeLog.objects.filter(grade=grade).count() == 2


@pytest.mark.timeout(120)
def test_keeping_the_other_graders_grade_leaves_ones_own_comment_to_copy(new_page, live_server, course, to_grade):
    boss = tara_saved_before_the_instructor(new_page, live_server, course, to_grade)

    boss.keyboard.press("c")
    boss.keyboard.type("The loop is never explained.")
    boss.keyboard.press("Control+s")
    expect(boss.locator("#grade-conflict")).to_be_visible()
    boss.get_by_role("button", name="Keep theirs").click()

    expect(boss.locator("#discarded-comment")).to_contain_text("The loop is never explained.")
    expect(boss.get_by_label("Q1 right")).to_be_checked()
    grade = Grade.objects.get()
    assert (grade.version, grade.comment) == (1, "")


@pytest.mark.timeout(120)
def test_an_instructor_adds_a_rubric_item_on_the_page_and_applies_it_by_its_key(page, live_server, course, to_grade):
    """The comment typed just before is saved before the rubric form leaves the page."""
    log_in_as(page, live_server, "instructor")
    page.goto(first_url(live_server, course, to_grade))
    page.keyboard.press("1")
    expect(page.locator("#save-status")).to_have_text("Saved (version 1).")
    page.get_by_text("Edit the rubric of question 1").click()
    page.get_by_label("Text of the new item").fill("Clear figure")
    page.get_by_label("Points of the new item").fill("+0.5")
    page.get_by_label("Comment").click()
    page.keyboard.type("The loop is explained.")
    expect(page.locator("#save-status")).to_have_text("Unsaved changes…")

    page.get_by_role("button", name="Add an item").click()

    expect(page.get_by_text("Rubric item 'Clear figure' added.")).to_be_visible()
    expect(page.get_by_label("Comment")).to_have_value("The loop is explained.")
    page.keyboard.press("3")
    expect(page.locator("#save-status")).to_have_text("Saved (version 3).")
    expect(page.locator("#score")).to_have_text("3.5")
    grade = Grade.objects.get(version=3)
    assert sorted(grade.items.values_list("text", flat=True)) == ["Clear figure", "Q1 right"]
    assert grade.comment == "The loop is explained."


@pytest.mark.timeout(120)
def test_a_rubric_form_is_not_sent_while_the_grade_cannot_be_saved(page, live_server, course, to_grade):
    log_in_as(page, live_server, "instructor")
    page.goto(first_url(live_server, course, to_grade))
    page.get_by_text("Edit the rubric of question 1").click()
    page.get_by_label("Text of the new item").fill("Clear figure")
    page.get_by_label("Points of the new item").fill("1")
    page.get_by_label("Adjustment").fill("lots")

    page.get_by_role("button", name="Add an item").click()

    status = page.locator("#save-status")
    expect(status).to_contain_text("The adjustment must be a number")
    expect(status).to_contain_text("The rubric change is not sent until the grade is saved.")
    expect(page.get_by_label("Text of the new item")).to_have_value("Clear figure")
    assert not RubricItem.objects.filter(text="Clear figure").exists()
