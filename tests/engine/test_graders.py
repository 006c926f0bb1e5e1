"""engine.graders: the group,ta_email file and the even spread (pure Python)."""

import pytest

from reports_app.engine.graders import HEADER_EXPECTED, Assignment, parse_graders, spread
from reports_app.engine.roster import RosterError


def test_a_file_reads_as_its_assignments_in_file_order():
    data = "\ufeffGroup;TA_Email\n3;Tom@Example.com\n\n1;'=ann@example.com\n".encode()
    assert parse_graders(data) == [Assignment(3, "tom@example.com", 2), Assignment(1, "=ann@example.com", 4)]


def test_every_problem_is_reported_with_its_line():
    data = b"group,ta_email\nseven,tom@example.com\n2,\n3,not an address\n4,tom@example.com\n4,TOM@example.com\n"
    with pytest.raises(RosterError) as error:
        parse_graders(data)
    assert error.value.problems == [
        (2, "the group number 'seven' is not a number"),
        (3, "the TA's e-mail address is missing"),
        (4, "'not an address' is not an e-mail address"),
        (6, "group 4 and tom@example.com are on line 5 already"),
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"", (1, "the file is empty")), (b"group,name\n1,x\n", (1, HEADER_EXPECTED)), (b"\xff\xfe", None)],
)
def test_a_file_that_is_not_a_list_of_graders_says_why(data, problem):
    with pytest.raises(RosterError) as error:
        parse_graders(data)
    assert problem is None or error.value.problems == [problem]


def test_the_spread_is_balanced_and_the_same_every_time():
    groups, tas = list(range(10, 0, -1)), ["ann", "bob", "cat"]
    first = spread(groups, tas)
    assert first == spread(sorted(groups), tas)
    assert sorted(list(first.values()).count(ta) for ta in tas) == [3, 3, 4]
    assert [first[n] for n in (1, 2, 3, 4)] == ["ann", "bob", "cat", "ann"]
    assert spread(groups, []) == {}
