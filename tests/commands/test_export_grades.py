"""export_grades: the course's points per group (csv) or per student in D2L's import format (d2l), to standard output
or a file, the same bytes as the web download; an unknown course, a course without grades and an unknown format are
refused with a clear message."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from reports_app.models import QuestionPoints
from reports_app.selectors.grade_exports import grades_file
from reports_app.services.grading import grade_save


@pytest.fixture
def graded(course, group1, group2, instructor):
    """Question 2 (max 5): group 1 has 3.25, group 2 no grade."""
    QuestionPoints.objects.create(course=course, number=2, max_points=Decimal("5"))
    grade_save(group=group1, number=2, items=[], adjustment="3.25", comment="", base_version=0, user=instructor)
    return course


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_grades", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_csv_goes_to_standard_output_a_row_per_group(graded):
    out, _ = run("--course", "C1", "--format", "csv")

    rows = list(csv.reader(io.StringIO(out.removeprefix("\ufeff"))))
    assert rows == [
        ["group", "name", "members", "study numbers", "Q2 points", "total points", "max points"],
        ["1", "One", "alice; bob", "", "3.25", "3.25", "5.00"],
        ["2", "Two", "charlie", "", "", "", "5.00"],
    ]
    assert out == grades_file(graded, "grades.csv")  # what the web download gives


def test_d2l_goes_to_a_file_a_row_per_student_with_a_count(graded, tmp_path):
    target = tmp_path / "d2l.csv"
    _, err = run("--course", "C1", "--format", "d2l", "--output", str(target))

    assert target.read_bytes() == grades_file(graded, "d2l.csv").encode("utf-8")  # CRLF kept, no BOM
    assert [row[1:3] for row in csv.reader(target.open(encoding="utf-8", newline=""))] == [
        ["Username", "Report Points Grade"],
        ["#alice", "3.25"],
        ["#bob", "3.25"],
        ["#charlie", ""],
    ]
    assert f"Wrote 3 rows of C1's grades to {target}" in err


def test_an_unknown_course_is_refused(course):
    with pytest.raises(CommandError, match="no course with code 'NOPE'"):
        run("--course", "NOPE", "--format", "csv")


def test_a_course_without_grades_is_refused(course, group1):
    QuestionPoints.objects.create(course=course, number=2, max_points=Decimal("5"))
    with pytest.raises(CommandError, match=r"^C1 has no grades yet: nothing to export$"):
        run("--course", "C1", "--format", "d2l")


def test_an_unknown_format_is_refused(graded):
    with pytest.raises(CommandError, match="invalid choice: 'xlsx'"):
        run("--course", "C1", "--format", "xlsx")


def test_a_folder_as_output_is_refused(graded, tmp_path):
    with pytest.raises(CommandError, match="is not a regular file"):
        run("--course", "C1", "--format", "csv", "--output", str(tmp_path))
