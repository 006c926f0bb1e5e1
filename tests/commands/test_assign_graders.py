"""`assign_graders --course CODE (--csv FILE | --spread) [--dry-run]`: the admin's Assign graders at a shell."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from reports_app.models import CourseStaff, Group, GroupGrader, StaffRole


@pytest.fixture
def tas(course, django_user_model):
    for name in ("ann", "bob"):
        user = django_user_model.objects.create_user(name, email=f"{name}@example.com")
        CourseStaff.objects.create(course=course, user=user, role=StaffRole.TA)
    for number in (1, 2, 3):
        Group.objects.create(course=course, number=number)


def assign(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("assign_graders", "--course", "C1", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def graders() -> list[tuple[int, str]]:
    return sorted(GroupGrader.objects.values_list("group__number", "user__username"))


def test_spread_prints_the_changes_and_a_dry_run_writes_nothing(tas):
    out, _ = assign("--spread", "--dry-run")
    assert out.splitlines() == [
        "Dry run: nothing was written.",
        "group 1: ann grades it",
        "group 2: bob grades it",
        "group 3: ann grades it",
        "3 added, 0 removed, 0 unchanged.",
    ]
    assert graders() == []

    assign("--spread")
    assert graders() == [(1, "ann"), (2, "bob"), (3, "ann")]
    assert assign("--spread")[0].splitlines() == ["0 added, 0 removed, 3 unchanged."]


def test_a_file_with_problems_names_each_line_and_assigns_nothing(tas, tmp_path):
    path = tmp_path / "graders.csv"
    path.write_text("group,ta_email\n1,ann@example.com\n4,bob@example.com\n2,who@example.com\n")

    with pytest.raises(CommandError, match="2 problems; nothing was assigned"):
        assign("--csv", str(path))

    assert graders() == []
    path.write_text("group,ta_email\n1,ann@example.com\n2,bob@example.com\n")
    assign("--csv", str(path))
    assert graders() == [(1, "ann"), (2, "bob")]


def test_the_problems_go_to_stderr(tas, tmp_path):
    path = tmp_path / "graders.csv"
    path.write_text("group,ta_email\n4,bob@example.com\n")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("assign_graders", "--course", "C1", "--csv", str(path), stdout=StringIO(), stderr=err)
    assert err.getvalue() == f"{path}: line 2: the course has no group 4\n"


def test_a_course_without_tas_says_so(course):
    with pytest.raises(CommandError, match="no TAs"):
        assign("--spread")
