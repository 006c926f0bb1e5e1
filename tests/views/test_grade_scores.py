"""One grade, one score: the grading page, the answer to a save, the overview, the group's feedback page and grades.csv
all show what services.grading.grade_score makes of it, within 0..max unless the course lets grades exceed it."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reports_app.models import Group, QuestionPoints, RubricItem
from reports_app.selectors.submissions import course_codes
from tests.conftest import client_for
from tests.helpers.csv import assert_all_quoted

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def rubric(course, group1, instructor):
    """Question 1 worth 4 points with items +3 and +1.5, question 2 worth 3; the grades released to the students."""
    QuestionPoints.objects.create(course=course, number=1, max_points=Decimal("4"))
    QuestionPoints.objects.create(course=course, number=2, max_points=Decimal("3"))
    course.grades_released_at = timezone.now()
    course.save()
    return [
        RubricItem.objects.create(course=course, number=1, text="Names the tool", points=Decimal("3"), position=1),
        RubricItem.objects.create(course=course, number=1, text="Says why", points=Decimal("1.5"), position=2),
    ]


def save(group: Group, number: int, items, adjustment: str) -> Decimal:
    """Grade as the instructor does on the grading page (JSON); the score its answer gives."""
    url = reverse("grade", args=[group.course_id, course_codes(group.course)[group.pk], number])
    data = {"items": [i.pk for i in items], "adjustment": adjustment, "comment": "", "version": 0, "revision": ""}
    response = client_for("instructor").post(url, data, **JSON)
    assert response.status_code == 200, response.content
    return Decimal(response.json()["score"])


def shown_scores(course, group: Group) -> dict[str, list[Decimal]]:
    """What each page shows as the group's scores on questions 1 and 2."""
    staff, code = client_for("instructor"), course_codes(course)[group.pk]
    grading = [staff.get(reverse("grade", args=[course.pk, code, n])).content.decode() for n in (1, 2)]
    overview = staff.get(reverse("grading", args=[course.pk])).content.decode()
    feedback = client_for("alice").get(reverse("feedback", args=[group.pk])).content.decode()
    csv = assert_all_quoted(staff.get(reverse("export-grades", args=[course.pk, "grades.csv"])).content.decode())
    row = next(r for r in csv if r[0] == str(group.number))
    return {
        "grading page": [Decimal(re.search(r'<span id="score">([^<]*)</span>', page)[1]) for page in grading],
        "overview": [
            Decimal(re.search(rf'href="{code}/{n}/" title="Question {n}: graded, ([-\d.]+) of', overview)[1])
            for n in (1, 2)
        ],
        "feedback page": [Decimal(s) for s in re.findall(r'class="badge[^"]* points">([-\d.]+) /', feedback)],
        "grades.csv": [Decimal(row[4]), Decimal(row[5])],
    }


@pytest.mark.parametrize(
    "may_exceed, expected",
    [
        (False, [Decimal("4"), Decimal("0")]),  # 3 + 1.5 + 1 = 5.5 clamped to 4; -2 clamped to 0
        (True, [Decimal("5.5"), Decimal("-2")]),
    ],
)
def test_every_page_and_file_shows_the_score_the_save_gave(course, group1, rubric, may_exceed, expected):
    course.grades_may_exceed = may_exceed
    course.save()

    saved = [save(group1, 1, rubric, "1"), save(group1, 2, [], "-2")]

    assert saved == expected
    assert shown_scores(course, group1) == dict.fromkeys(
        ["grading page", "overview", "feedback page", "grades.csv"], expected
    )
