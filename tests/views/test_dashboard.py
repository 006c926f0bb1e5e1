"""The staff dashboard: a row per group with the course checker's verdict per question, its scrape and its flags."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports_app.models import (
    Course,
    CourseStaff,
    Group,
    GroupGrader,
    Invitation,
    Membership,
    Question,
    Scrape,
    StaffRole,
)
from reports_app.services.answers import answer_save, checklist_set
from reports_app.services.checking import report_check
from reports_app.services.reports import report_for_group, report_import
from tests.conftest import read_fixture
from tests.helpers.csv import assert_all_quoted, assert_nothing_runs

DEADLINE = datetime(2026, 1, 20, 23, 59, tzinfo=UTC)


def url(course, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("dashboard", args=[course.pk]) + (f"?{query}" if query else "")


def csv_url(course, **params) -> str:
    return url(course, **params).replace(
        reverse("dashboard", args=[course.pk]), reverse("dashboard-csv", args=[course.pk])
    )


def save(group, number: int, text: str, base_version: int = 0):
    report = report_for_group(group)
    question = Question.objects.get(template=report.template, number=number)
    return answer_save(report=report, question=question, text=text, base_version=base_version, user=None)


def scrape(group, status=Scrape.Status.OK, *, commit_at=None, sha="a1b2c3d4e5f6a7b8c9d0", message=""):
    done = Scrape.objects.create(
        group=group,
        repo_url=group.repo_url or "https://github.com/acme/x",
        status=status,
        message=message,
        commit_sha=sha if commit_at else "",
        commit_at=commit_at,
        fetched_at=DEADLINE + timedelta(days=1),
    )
    group.last_scrape = done
    group.save(update_fields=["last_scrape"])
    return done


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n))


def rows_of(response) -> list[int]:
    """The group numbers of the table's rows, in order."""
    return [row.group.number for row in response.context["rows"]]


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def answered(group1):
    """Group 1 with answers that pass, fail on words, fail on images, and questions left empty."""
    save(group1, 1, "7")
    save(group1, 3, words(60))  # 50-100 words: passes
    save(group1, 4, "too short")  # 100-200 words
    save(group1, 6, words(120))  # 100-200 words + 1-2 images: no image
    return group1


# --- access --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dashboard", "dashboard-csv"])
def test_anonymous_is_sent_to_login(client, course, name):
    path = reverse(name, args=[course.pk])
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={path}"


@pytest.mark.parametrize("name", ["dashboard", "dashboard-csv"])
def test_a_student_gets_404(alice, course, name):
    assert alice.get(reverse(name, args=[course.pk])).status_code == 404


@pytest.mark.parametrize("name", ["dashboard", "dashboard-csv"])
def test_unknown_course_gets_404(staff, db, name):
    assert staff.get(reverse(name, args=[999])).status_code == 404


def test_staff_get_the_page_and_a_link_to_it_on_the_home_page(staff, course, group1):
    assert staff.get(url(course)).status_code == 200
    assert f'href="{url(course)}"' in staff.get(reverse("home")).content.decode()


def test_students_get_no_dashboard_link(client, course, django_user_model):
    client.force_login(django_user_model.objects.create_user("loner"))
    html = client.get(reverse("home")).content.decode()
    assert "You are not in any group yet." in html
    assert url(course) not in html


# --- what the table shows ------------------------------------------------------------------------------------------


def test_each_question_cell_says_its_verdict_in_class_letter_and_title(staff, course, answered):
    html = staff.get(url(course)).content.decode()

    assert '<td class="verdict verdict-pass" title="Question 3 passes: words 60 of 50-100">P</td>' in html
    assert (
        '<td class="verdict verdict-words" title="Question 4 failed check. Expected number of words to be between '
        '100 and 200 but got 2">W</td>'
    ) in html
    assert (
        '<td class="verdict verdict-images" title="Question 6 failed check. Expected number of screenshots to be '
        'between 1 and 2 but got 0">I</td>'
    ) in html
    assert (
        '<td class="verdict verdict-missing" title="Question 5 failed check. Expected number of words to be between '
        '200 and 300 but got 0">M</td>'
    ) in html
    # no word rule: the course passes an empty answer, but it is not answered, and the cell says so, never green
    assert (
        '<td class="verdict verdict-missing" title="Question 2 is not answered; the course checker passes it: '
        'words 0">M</td>'
    ) in html


def test_verdicts_and_pass_count_are_the_course_checkers(staff, course, answered):
    response = staff.get(url(course))
    result = report_check(answered.report)
    (row,) = response.context["rows"]

    assert [v.verdict for v in row.verdicts] == [
        "pass", "missing", "pass", "words", "missing", "images", "missing", "missing", "missing", "missing",
    ]  # fmt: skip
    assert [v.passes for v in row.verdicts] == [q.passed for q in result.questions]
    assert row.passed == result.passed == 4  # questions 2 and 8 pass empty: no minimum
    assert '<td class="passed text-end">4/10</td>' in response.content.decode()
    assert row.answered == 4
    assert '<td class="answered text-end">4/10</td>' in response.content.decode()


def test_an_edited_rule_changes_the_verdict_on_the_next_view(staff, course, answered):
    staff.get(url(course))  # the check of this README is kept for later views, keyed on the rules among others
    Question.objects.filter(template=course.template, number=4).update(min_words=1, max_words=5)

    (row,) = staff.get(url(course)).context["rows"]

    assert row.verdicts[3].verdict == "pass" and row.passed == 5


def test_an_edited_answer_changes_the_verdict_on_the_next_view(staff, course, answered):
    staff.get(url(course))
    save(answered, 4, words(150), base_version=1)

    (row,) = staff.get(url(course)).context["rows"]

    assert row.verdicts[3].verdict == "pass" and row.passed == 5


def test_a_group_without_a_report_shows_every_question_missing(staff, course, group1, group2):
    assert not hasattr(group2, "report")
    response = staff.get(url(course))
    html = response.content.decode()
    row = next(r for r in response.context["rows"] if r.group == group2)

    assert [v.verdict for v in row.verdicts] == ["missing"] * 10
    assert html.count('<td class="verdict verdict-missing" title="No report yet">M</td>') == 20  # group 1 too
    assert '<span class="badge text-bg-warning me-1">no report</span>' in html


def test_a_report_the_course_checker_stops_on_fails_every_question_with_the_reason(staff, course, group2):
    report_import(group=group2, text=read_fixture("missing_answer_line.md"), template=course.template, label="test")
    result = report_check(group2.report)
    assert result.course_error and result.passed > 0  # by its headings most questions would pass

    response = staff.get(url(course))
    (row,) = response.context["rows"]
    html = response.content.decode()

    assert [v.verdict for v in row.verdicts] == ["stops"] * 10
    assert row.passed == 0
    assert '<td class="passed text-end">0/10</td>' in html
    assert html.count('<td class="verdict verdict-stops" title="The course checker stops on this file.') == 10
    assert "P</td>" not in html
    reason = result.structure[0]
    assert reason.startswith("The course checker stops on this file (ValueError: Number of answers are different")
    assert f'title="{reason}' in html.replace("&#x27;", "'")
    assert ">course checker stops</span>" in html


def test_late_marker_compares_the_commit_with_the_groups_own_deadline(staff, course, group1, group2):
    course.deadline = DEADLINE
    course.save()
    scrape(group1, commit_at=DEADLINE + timedelta(hours=2))
    group2.extension = DEADLINE + timedelta(days=2)
    group2.save()
    scrape(group2, commit_at=DEADLINE + timedelta(days=1))  # late for the course, in time for its extension

    response = staff.get(url(course))
    late = {row.group.number: row.late for row in response.context["rows"]}
    html = response.content.decode()

    assert late == {1: True, 2: False}
    assert html.count('<span class="badge text-bg-danger late"') == 1
    assert '<code title="a1b2c3d4e5f6a7b8c9d0">a1b2c3d</code> 2026-01-21 02:59 <span class="badge' in html  # local time


def test_never_scraped_flag_needs_a_repo_url_and_no_scrape(staff, course, group1, group2):
    group1.repo_url = "https://github.com/acme/one"
    group1.save()
    group2.repo_url = "https://github.com/acme/two"
    group2.save()
    scrape(group2, Scrape.Status.EMPTY)
    Group.objects.create(course=course, number=3)  # no repo URL: nothing to scrape

    flags = {row.group.number: row.flags for row in staff.get(url(course)).context["rows"]}

    assert flags == {
        1: ["no report", "never scraped"],
        2: ["no report", "empty repo"],
        3: ["no report"],
    }


def test_a_report_with_nothing_written_is_flagged_no_report(staff, course, group1):
    report_for_group(group1)  # opened, never written in
    (row,) = staff.get(url(course)).context["rows"]
    assert row.flags == ["no report"]
    assert row.passed == 3  # questions 1, 2 and 8 have no word rule: the course passes them empty


def test_members_show_short_labels_and_everyone_in_full_on_hover_and_when_opened(
    staff, course, group1, django_user_model, settings
):
    django_user_model.objects.filter(username="alice").update(
        first_name="Alice", last_name="Berg", email="alice@example.org"
    )
    roster = django_user_model.objects.create_user("s240011@student.example.org", email="s240011@student.example.org")
    Membership.objects.create(user=roster, group=group1, study_number="s240011")
    Invitation.objects.create(group=group1, email="erin@example.org", token_hash="e" * 64)
    expired = timezone.now() - timedelta(days=settings.INVITATION_DAYS + 1)
    Invitation.objects.create(group=group1, email="old@example.org", token_hash="f" * 64, created_at=expired)
    Invitation.objects.create(group=group1, email="in@example.org", token_hash="a" * 64, accepted_at=timezone.now())
    Group.objects.create(course=course, number=2)

    html = staff.get(url(course)).content.decode()

    everyone = [
        "Alice Berg &lt;alice@example.org&gt;",
        "bob",
        "s240011@student.example.org · s240011",
        "erin@example.org (invited, has not joined yet)",
    ]
    assert (
        f'<td class="members"><details><summary title="{chr(10).join(everyone)}">'
        '<span class="labels">Alice, bob, s240011</span><span class="invited">+1 invited</span></summary>'
        f"<ul>{''.join(f'<li>{person}</li>' for person in everyone)}</ul></details></td>"
    ) in html
    assert '<td class="members text-body-secondary">nobody</td>' in html  # group 2


def test_staff_can_start_a_scrape_or_an_export_from_the_dashboard(staff, course):
    """The buttons and the jobs list are the hub's: tests/views/test_course_jobs.py."""
    Group.objects.create(course=course, number=1, repo_url="https://github.com/acme/one")
    html = staff.get(url(course)).content.decode()
    assert html.count(f'<form method="post" action="{reverse("start-job", args=[course.pk])}"') == 2  # scrape, export
    assert '<input type="hidden" name="kind" value="scrape">' in html
    assert '<input type="hidden" name="kind" value="export">' in html


# --- filters and sorting -------------------------------------------------------------------------------------------


@pytest.fixture
def three_groups(course, answered, group2, django_user_model):
    """Group 1 (alice, bob): passes 4, late. Group 2 (charlie, erin invited): passes 5, never scraped. Group 3 (dora,
    study number s240077): no report, empty repo."""
    scrape(answered, commit_at=DEADLINE + timedelta(hours=1))
    group2.repo_url = "https://github.com/acme/two"
    group2.save()
    save(group2, 3, words(60))
    save(group2, 4, words(150))
    group3 = Group.objects.create(course=course, number=3, name="Third", repo_url="https://github.com/acme/three")
    dora = django_user_model.objects.create_user("dora", email="dora@example.org", first_name="Dora", last_name="Lind")
    Membership.objects.create(user=dora, group=group3, study_number="s240077")
    Invitation.objects.create(group=group2, email="erin@example.org", name="Erin Holm", token_hash="e" * 64)
    scrape(group3, Scrape.Status.EMPTY)
    course.deadline = DEADLINE  # last: answers cannot be saved after it
    course.save()
    return course


@pytest.mark.parametrize(
    "params, groups",
    [
        ({}, [1, 2, 3]),
        ({"status": "ok"}, [1]),
        ({"status": "empty"}, [3]),
        ({"status": "none"}, [2]),
        ({"failing": 4}, [1, 3]),
        ({"failing": 3}, [3]),
        ({"late": 1}, [1]),
        ({"never_scraped": 1}, [2]),
        ({"q": "CHARLIE"}, [2]),
        ({"q": "lind"}, [3]),
        ({"q": "dora@example"}, [3]),
        ({"q": "s240077"}, [3]),  # a study number
        ({"q": "S2400"}, [3]),
        ({"q": "erin@example.org"}, [2]),  # invited, has not joined yet
        ({"q": "holm"}, [2]),
        ({"q": "77"}, [3]),  # no group 77: the members' study numbers
        ({"q": "thi"}, [3]),
        ({"q": "2"}, [2]),
        ({"q": "group 3"}, [3]),
        ({"failing": 5, "q": "charlie"}, [2]),
        ({"failing": 4, "q": "charlie"}, []),
        ({"unanswered": 1}, [2, 3]),
        ({"unanswered": 4}, [3]),
        ({"unanswered": 8}, [1, 2, 3]),  # nobody wrote question 8 ...
        ({"failing": 8}, [3]),  # ... and the course checker passes it empty (0-200 words) where there is a report
    ],
)
def test_filters(staff, three_groups, params, groups):
    assert rows_of(staff.get(url(three_groups, **params))) == groups


@pytest.mark.parametrize(
    "sort, groups",
    [
        ("group", [1, 2, 3]),
        ("-group", [3, 2, 1]),
        ("passed", [3, 1, 2]),
        ("-passed", [2, 1, 3]),
        ("commit", [1, 2, 3]),  # only group 1 has a commit; the others follow in number order
        ("-commit", [1, 2, 3]),
        ("status", [1, 3, 2]),  # ok, empty repo, not scraped (last either way)
        ("-status", [3, 1, 2]),
    ],
)
def test_sort(staff, three_groups, sort, groups):
    assert rows_of(staff.get(url(three_groups, sort=sort))) == groups


def test_sort_by_commit_time(staff, course, group1, group2):
    scrape(group1, commit_at=DEADLINE)
    scrape(group2, commit_at=DEADLINE - timedelta(days=1))
    Group.objects.create(course=course, number=3)
    assert rows_of(staff.get(url(course, sort="commit"))) == [2, 1, 3]
    assert rows_of(staff.get(url(course, sort="-commit"))) == [1, 2, 3]


def test_a_bad_filter_is_named_and_the_others_still_apply(staff, three_groups):
    response = staff.get(url(three_groups, failing=99, status="bogus", q="charlie"))
    html = response.content.decode()

    assert rows_of(response) == [2]
    assert "There is no question 99 in this course&#x27;s template." in html
    assert "Select a valid choice. bogus is not one of the available choices." in html


def test_nothing_matching_says_so(staff, three_groups):
    response = staff.get(url(three_groups, q="nobody"))
    assert rows_of(response) == []
    assert "No group matches these filters." in response.content.decode()


def sort_header(label: str, href: str, title: str, order: str | None) -> str:
    aria, arrow = (f' aria-sort="{order}"', {"ascending": "▲", "descending": "▼"}[order]) if order else ("", "↕")
    return (
        f'<th scope="col" class="sortable"{aria}><a href="{href}" title="Sort by {title}">{label}'
        f'<span class="sort-arrow" aria-hidden="true">{arrow}</span></a></th>'
    )


@pytest.mark.parametrize(
    "sort, header",
    [
        ("group", sort_header("Group", "?q=o&amp;sort=-group", "group number, descending", "ascending")),
        ("-group", sort_header("Group", "?q=o&amp;sort=group", "group number", "descending")),
        ("passed", sort_header("Passed", "?q=o&amp;sort=-passed", "questions passed, most first", "ascending")),
        ("-passed", sort_header("Passed", "?q=o&amp;sort=passed", "questions passed, fewest first", "descending")),
        ("status", sort_header("Scrape", "?q=o&amp;sort=-status", "scrape status, descending", "ascending")),
        ("-commit", sort_header("Last commit", "?q=o&amp;sort=commit", "last commit, oldest first", "descending")),
    ],
)
def test_the_sorted_column_says_how_and_its_link_sorts_the_other_way_keeping_the_filters(
    staff, three_groups, sort, header
):
    html = staff.get(url(three_groups, q="o", sort=sort)).content.decode()

    assert header in html
    assert html.count(" aria-sort=") == 1
    assert html.count('<span class="sort-arrow" aria-hidden="true">↕</span>') == 3  # the other sortable columns


def test_a_column_not_sorted_by_sorts_the_useful_way_first(staff, three_groups):
    html = staff.get(url(three_groups)).content.decode()

    assert sort_header("Group", "?sort=-group", "group number, descending", "ascending") in html  # the default
    assert sort_header("Passed", "?sort=-passed", "questions passed, most first", None) in html
    assert sort_header("Scrape", "?sort=status", "scrape status", None) in html
    assert sort_header("Last commit", "?sort=-commit", "last commit, newest first", None) in html


def test_the_filter_form_keeps_the_sort_and_names_a_bad_one(staff, three_groups):
    html = staff.get(url(three_groups, sort="-passed")).content.decode()
    assert '<input type="hidden" name="sort" value="-passed" id="id_sort">' in html

    response = staff.get(url(three_groups, sort="bogus"))
    html = response.content.decode()
    assert rows_of(response) == [1, 2, 3]
    assert "Sort by: Select a valid choice. bogus is not one of the available choices." in html
    assert sort_header("Group", "?sort=-group", "group number, descending", "ascending") in html


# --- CSV -----------------------------------------------------------------------------------------------------------


def test_the_csv_is_the_table_filtered_and_sorted_the_same_way(staff, three_groups):
    params = {"sort": "-passed", "failing": 5}
    page = staff.get(url(three_groups, **params))
    response = staff.get(csv_url(three_groups, **params))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="C1-dashboard.csv"'
    header, *lines = read_csv(response)
    assert header == [
        "group", "name", "members", "study numbers", "passed", "questions", *(f"Q{n}" for n in range(1, 11)),
        "commit", "commit time (Europe/Copenhagen)", "late", "first seen after deadline", "members without commits",
        "scrape status", "flags", "commits",
    ]  # fmt: skip
    assert [int(line[0]) for line in lines] == rows_of(page) == [2, 1, 3]
    for line, row in zip(lines, page.context["rows"], strict=True):
        assert int(line[4]) == row.passed
        assert line[6:16] == [v.verdict.letter for v in row.verdicts]
    group2, group1, group3 = lines
    assert group1 == [
        "1", "One", "alice; bob", "", "4", "10",
        "P", "M", "P", "W", "M", "I", "M", "M", "M", "M",
        "a1b2c3d4e5f6a7b8c9d0", "2026-01-21 01:59", "yes", "no", "", "ok", "", "",
    ]  # fmt: skip
    assert group2[-8:] == ["", "", "no", "no", "", "not scraped", "never scraped", ""]
    assert group3[2:4] == ["dora@example.org", "s240077"]
    assert group3[-3:] == ["empty repo", "no report; empty repo", ""]


def test_the_csv_keeps_each_verdicts_letter_as_the_page_shows_it(staff, course, answered, group2):
    """W (words) and I (images) stay apart, and S (the course checker stops on the file) is no ordinary fail."""
    report_import(group=group2, text=read_fixture("missing_answer_line.md"), template=course.template, label="test")
    html = staff.get(url(course)).content.decode()

    _, one, two = read_csv(staff.get(csv_url(course)))

    assert one[6:16] == ["P", "M", "P", "W", "M", "I", "M", "M", "M", "M"]
    assert two[6:16] == ["S"] * 10
    assert re.findall(r'<td class="verdict verdict-\w+" title="[^"]*">(\w)</td>', html) == one[6:16] + two[6:16]


def test_csv_cells_that_excel_would_run_are_neutralised(staff, course, group1, django_user_model):
    group1.name = '=HYPERLINK("http://evil.example","x")'
    group1.save()
    django_user_model.objects.filter(username="alice").update(email="+1@example.org")
    (line,) = read_csv(staff.get(csv_url(course)))[1:]
    assert line[1] == '\'=HYPERLINK("http://evil.example","x")'
    assert line[2] == "'+1@example.org; bob"


def test_csv_quotes_every_cell_so_no_locale_runs_one(staff, course, group1, group2, django_user_model):
    group1.name = "Otters;=1+1;"
    group1.save()
    group2.name = "\r@SUM(A1)"
    group2.save()
    django_user_model.objects.filter(username="charlie").update(email="-2+3@example.org")

    text = staff.get(csv_url(course)).content.decode("utf-8")

    _, one, two = assert_all_quoted(text)
    assert one[:3] == ["1", "Otters;=1+1;", "alice; bob"]
    assert two[:3] == ["2", "'\r@SUM(A1)", "'-2+3@example.org"]
    assert_nothing_runs(text)


def test_csv_file_name_is_safe_whatever_the_course_code(staff, instructor):
    course = Course.objects.create(code='../x"\nSet-Cookie: a=b')  # an old row, from before codes were checked
    CourseStaff.objects.create(course=course, user=instructor, role=StaffRole.INSTRUCTOR)

    response = staff.get(csv_url(course))

    assert response["Content-Disposition"] == 'attachment; filename="x-Set-Cookie-a-b-dashboard.csv"'


# --- queries -------------------------------------------------------------------------------------------------------


def add_groups(course, n: int, django_user_model):
    """n more groups, each with a member (with a study number), someone invited, a report with two answers, a tick
    and a scrape."""
    start = Group.objects.filter(course=course).count() + 1
    for number in range(start, start + n):
        group = Group.objects.create(course=course, number=number, repo_url=f"https://github.com/acme/g{number}")
        user = django_user_model.objects.create_user(f"student{number}", email=f"student{number}@example.org")
        Membership.objects.create(user=user, group=group, study_number=f"s24{number:04d}")
        Invitation.objects.create(group=group, email=f"invited{number}@example.org", token_hash=f"{number:064x}")
        save(group, 3, words(60))
        save(group, 4, words(10))
        checklist_set(report=group.report, changes={1: True}, user=None)
        scrape(group, commit_at=DEADLINE)


def group_numbers(response) -> list[int]:
    """The groups a dashboard page or CSV lists, in order."""
    if response["Content-Type"].startswith("text/csv"):
        return [int(line[0]) for line in read_csv(response)[1:]]
    return rows_of(response)


# session, user, course, then the overview: groups with report and last scrape, templates, questions, memberships
# with users, pending invitations, answers, checklist marks
OVERVIEW_QUERIES = 10
# the page adds the staff hub's (tests/views/test_course_jobs.py): the course's group counts, its recent jobs, and
# the staff member's permissions (user's, group's) for the admin links
PAGE_QUERIES = OVERVIEW_QUERIES + 4


@pytest.mark.parametrize("path, queries", [(url, PAGE_QUERIES), (csv_url, OVERVIEW_QUERIES)])
def test_queries_do_not_grow_with_the_groups(
    staff, course, django_user_model, django_assert_num_queries, path, queries
):
    add_groups(course, 3, django_user_model)
    with django_assert_num_queries(queries):
        response = staff.get(path(course))
    assert group_numbers(response) == [1, 2, 3]

    add_groups(course, 27, django_user_model)
    with django_assert_num_queries(queries):
        response = staff.get(path(course))
    assert group_numbers(response) == list(range(1, 31))


# --- not answered --------------------------------------------------------------------------------------------------


def test_a_placeholder_left_in_is_not_answered_though_the_checker_counts_its_words(staff, course, group1):
    save(group1, 3, words(60))
    save(group1, 4, "--- question 4 fill here ---")  # 6 words of 100-200: the checker fails it
    save(group1, 8, "--- question 8 fill here ---")  # 6 words of 0-200: the checker passes it
    response = staff.get(url(course))
    (row,) = response.context["rows"]
    html = response.content.decode().replace("&#x27;", "'")

    assert (row.verdict(4), row.verdict(8)) == ("missing", "missing")
    assert (row.passes(4), row.passes(8)) == (False, True)
    assert not row.answers(4) and not row.answers(8) and row.answers(3)
    assert (row.passed, row.answered) == (report_check(group1.report).course_passed, 1)
    assert (
        '<td class="verdict verdict-missing" title="Question 8 still holds the template\'s placeholder. Question 8 '
        'passes: words 6 of 0-200">M</td>'
    ) in html
    assert '<td class="answered text-end">1/10</td>' in html
    assert "Not answered question" in html  # the filter


# --- a TA's dashboard: the groups assigned to them -----------------------------------------------------------------


def ta_client(course, numbers: list[int], django_user_model):
    """A client logged in as a TA of the course who grades its groups of these numbers."""
    from django.test import Client

    ta = django_user_model.objects.create_user("tara", password="pw-tara")
    CourseStaff.objects.create(course=course, user=ta, role=StaffRole.TA)
    for group in course.groups.filter(number__in=numbers):
        GroupGrader.objects.create(group=group, user=ta)
    client = Client()
    client.force_login(ta)
    return client


def test_a_ta_sees_only_their_groups_and_the_counts_and_filters_agree(course, django_user_model):
    add_groups(course, 4, django_user_model)
    ta = ta_client(course, [2, 4], django_user_model)

    page = ta.get(url(course))
    filtered = ta.get(url(course, q="3"))  # a group of the course, not theirs

    assert group_numbers(page) == [2, 4]
    assert 'Showing <strong id="shown">2 of 2</strong>' in page.content.decode()
    assert 'id="jobs"' not in page.content.decode() and 'id="your-groups"' in page.content.decode()
    assert group_numbers(ta.get(csv_url(course))) == [2, 4]
    assert group_numbers(filtered) == [] and "0 of 2" in filtered.content.decode()


def test_a_ta_of_another_course_gets_404(course, demo_template, django_user_model):
    other = Course.objects.create(code="C2", template=demo_template)
    ta = ta_client(other, [], django_user_model)
    assert ta.get(url(course)).status_code == 404 and ta.get(csv_url(course)).status_code == 404


def test_a_ta_whose_role_is_gone_no_longer_sees_their_groups(course, group1, django_user_model):
    ta = ta_client(course, [1], django_user_model)
    CourseStaff.objects.filter(user__username="tara").delete()  # the grader row stays
    assert ta.get(reverse("report", args=[group1.pk])).status_code == 404
    assert ta.get(url(course)).status_code == 404


# session, user, course with the TA's role, the ids of the groups they see, then the overview as for an instructor
# but the course lookup (OVERVIEW_QUERIES - 3)
TA_QUERIES = 4 + OVERVIEW_QUERIES - 3


@pytest.mark.parametrize("path", [url, csv_url])
def test_a_tas_queries_do_not_grow_with_their_groups(course, django_user_model, django_assert_num_queries, path):
    add_groups(course, 3, django_user_model)
    ta = ta_client(course, [1, 2, 3], django_user_model)
    with django_assert_num_queries(TA_QUERIES):
        response = ta.get(path(course))
    assert group_numbers(response) == [1, 2, 3]

    add_groups(course, 27, django_user_model)
    GroupGrader.objects.bulk_create(
        GroupGrader(group=group, user=response.wsgi_request.user) for group in course.groups.filter(number__gt=3)
    )
    add_groups(course, 5, django_user_model)  # not theirs
    with django_assert_num_queries(TA_QUERIES):
        response = ta.get(path(course))
    assert group_numbers(response) == list(range(1, 31))
