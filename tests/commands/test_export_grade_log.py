"""export_grade_log: the course's grade log as CSV, to standard output or a file; an unknown course is refused."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from reports_app.models import QuestionPoints, RubricItem
from reports_app.services.grading import GRADE_LOG_HEADER, grade_save, rubric_item_set_points


@pytest.fixture
def logged(course, group1, instructor):
    QuestionPoints.objects.create(course=course, number=2, max_points=Decimal("5"))
    item = RubricItem.objects.create(course=course, number=2, text="Explains the setup", points=Decimal("2"))
    grade_save(group=group1, number=2, items=[item], adjustment="1", comment="ok", base_version=0, user=instructor)
    rubric_item_set_points(item=item, points="3", user=instructor)


def test_the_log_goes_to_standard_output_oldest_first(logged):
    out = io.StringIO()
    call_command("export_grade_log", "--course", "C1", stdout=out)

    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == GRADE_LOG_HEADER
    assert [(r[1], r[2], r[4], r[5], r[6]) for r in rows[1:]] == [
        ("1", "2", "graded", "", "3.00"),
        ("1", "2", "rubric item's points changed", "3.00", "4.00"),
    ]


def test_the_log_goes_to_a_file_with_a_count(logged, tmp_path):
    err = io.StringIO()
    call_command("export_grade_log", "--course", "C1", "--out", str(tmp_path / "log.csv"), stderr=err)

    assert len(list(csv.reader((tmp_path / "log.csv").open(encoding="utf-8")))) == 3
    assert "Wrote 2 entries of C1's grade log" in err.getvalue()


def test_an_unknown_course_is_refused(course):
    with pytest.raises(CommandError, match="no course with code 'NOPE'"):
        call_command("export_grade_log", "--course", "NOPE")
