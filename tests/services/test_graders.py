"""services.graders: who grades which group, from a group,ta_email file or spread evenly over the TAs."""

import pytest
from django.contrib.auth import get_user_model

from reports_app.engine.roster import RosterError
from reports_app.models import Course, CourseStaff, Group, GroupGrader, StaffRole
from reports_app.services.graders import NO_TAS, graders_read, graders_set, graders_spread_plan


def staff_member(course, username: str, role=StaffRole.TA):
    """A user with a role in the course, the e-mail <username>@example.com."""
    user = get_user_model().objects.create_user(username, email=f"{username}@example.com")
    CourseStaff.objects.create(course=course, user=user, role=role)
    return user


def assignment(course) -> dict[int, list[str]]:
    """{group number: [grader user names]} as stored."""
    graders: dict[int, list[str]] = {}
    for number, username in GroupGrader.objects.filter(group__course=course).values_list(
        "group__number", "user__username"
    ):
        graders.setdefault(number, []).append(username)
    return {number: sorted(names) for number, names in sorted(graders.items())}


@pytest.fixture
def groups(course):
    return [Group.objects.create(course=course, number=n) for n in range(1, 8)]


def spread_now(course, **kwargs):
    return graders_set(course=course, wanted=graders_spread_plan(course=course), only_tas=True, **kwargs)


def test_the_spread_is_even_and_running_it_again_changes_nothing(course, groups):
    for name in ("cat", "ann", "bob"):
        staff_member(course, name)

    first = spread_now(course)
    again = spread_now(course)

    assert assignment(course) == {1: ["ann"], 2: ["bob"], 3: ["cat"], 4: ["ann"], 5: ["bob"], 6: ["cat"], 7: ["ann"]}
    assert (len(first.added), first.removed) == (7, [])
    assert (again.added, again.removed, again.unchanged) == ([], [], 7)


def test_a_new_ta_spreads_again_by_group_number_and_instructors_assignments_stay(course, groups, instructor):
    for name in ("ann", "bob"):
        staff_member(course, name)
    spread_now(course)
    GroupGrader.objects.create(group=groups[0], user=instructor)
    staff_member(course, "abe")

    preview = spread_now(course, dry_run=True)
    assert assignment(course)[1] == ["ann", "instructor"]  # a dry run writes nothing
    spread_now(course)

    assert assignment(course) == {
        1: ["abe", "instructor"], 2: ["ann"], 3: ["bob"], 4: ["abe"], 5: ["ann"], 6: ["bob"], 7: ["abe"]
    }  # fmt: skip
    assert (1, "abe") in preview.added and (1, "ann") in preview.removed


def test_a_course_without_tas_cannot_be_spread(course, groups):
    with pytest.raises(ValueError, match=NO_TAS):
        graders_spread_plan(course=course)


def test_a_file_gives_each_group_it_names_exactly_its_graders(course, groups, instructor):
    ann = staff_member(course, "ann")
    staff_member(course, "bob")
    GroupGrader.objects.create(group=groups[0], user=ann)
    GroupGrader.objects.create(group=groups[1], user=ann)  # group 2 is not in the file: it stays
    data = b"group,ta_email\n1,bob@example.com\n3,ann@example.com\n3,BOB@example.com\n"

    changes = graders_set(course=course, wanted=graders_read(course=course, data=data))

    assert assignment(course) == {1: ["bob"], 2: ["ann"], 3: ["ann", "bob"]}
    assert changes.lines() == [
        "group 1: bob grades it",
        "group 3: ann grades it",
        "group 3: bob grades it",
        "group 1: ann no longer grades it",
    ]
    assert graders_set(course=course, wanted=graders_read(course=course, data=data)).changed is False


def test_every_problem_of_a_file_is_reported_with_its_line_and_nothing_is_assigned(course, groups, demo_template):
    staff_member(course, "ann")
    elsewhere = staff_member(Course.objects.create(code="C2", template=demo_template), "olga", StaffRole.INSTRUCTOR)
    data = b"group,ta_email\n1,ann@example.com\n99,ann@example.com\n2,nobody@example.com\n3,olga@example.com\n"

    with pytest.raises(RosterError) as error:
        graders_read(course=course, data=data)

    assert error.value.problems == [
        (3, "the course has no group 99"),
        (4, "nobody@example.com has no account"),
        (5, f"{elsewhere.email} is not a TA or instructor of C1: give them a role in the course first"),
    ]
    assert assignment(course) == {}
