from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports_app.models import Course, Group, Membership, Report
from reports_app.selectors.report_page import report_page
from reports_app.services.answers import answer_save, checklist_set
from reports_app.services.reports import report_for_group, report_import
from reports_app.services.templates import template_load
from tests.conftest import client_for
from tests.helpers.pages import save


def url(group) -> str:
    return reverse("report", args=[group.pk])


def test_anonymous_is_sent_to_login(client, group1):
    response = client.get(url(group1))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url(group1)}"


def test_outsider_gets_404(charlie, group1):
    assert charlie.get(url(group1)).status_code == 404


def test_unknown_group_gets_404(alice):
    assert alice.get(reverse("report", args=[999])).status_code == 404


def test_member_sees_every_question_in_template_order_with_the_course_verdicts(alice, group1):
    save(group1, 3, "word " * 60)  # question 3 wants 50-100 words
    save(group1, 4, "too short")
    response = alice.get(url(group1))
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'id="question-{n}-heading"') for n in range(1, 11)]
    assert positions == sorted(positions)
    page = report_page(group1.report)
    assert f"passed {page.result.passed}/10" in html
    assert "words 60 of 50-100" in html
    assert "Question 4 failed check. Expected number of words to be between" in html
    assert '<span class="provenance">alice, just now</span> · version 1' in html


def test_page_is_started_on_the_course_template_the_first_time(alice, group1):
    assert not Report.objects.filter(group=group1).exists()
    assert alice.get(url(group1)).status_code == 200
    assert Report.objects.get(group=group1).template == group1.course.template


def test_answers_are_shown_sanitized(alice, group1):
    save(group1, 3, 'Hello <script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3))')
    html = alice.get(url(group1)).content.decode()
    assert "Hello" in html
    assert "alert(1)" not in html and "onerror" not in html and "javascript:" not in html


def test_placeholder_answers_are_flagged(alice, group1):
    save(group1, 3, "--- question 3 fill here ---")
    html = alice.get(url(group1)).content.decode()
    assert '<span aria-hidden="true">\u2013 </span>placeholder</span>' in html
    assert "still holds the template&#x27;s placeholder &#x27;--- question 3 fill here ---&#x27;" in html


def test_staff_sees_any_group_read_only(staff, group1):
    response = staff.get(url(group1))
    assert response.status_code == 200
    html = response.content.decode()
    assert "read-only for you" in html
    assert reverse("edit-answer", args=[group1.pk, 3]) in html  # a View link
    assert ">Edit<" not in html
    assert 'id="checklist-save"' not in html


def test_time_left_shows_before_the_deadline_and_read_only_after(alice, group1):
    course = group1.course
    course.deadline = timezone.now() + timezone.timedelta(days=2, hours=3)
    course.save()
    assert "2\xa0days, 2\xa0hours left" in alice.get(url(group1)).content.decode()
    course.deadline = timezone.now() - timezone.timedelta(minutes=1)
    course.save()
    html = alice.get(url(group1)).content.decode()
    assert "The hand-in closed on" in html
    assert ">Edit<" not in html


def test_an_extension_keeps_the_group_open(alice, group1):
    group1.course.deadline = timezone.now() - timezone.timedelta(hours=1)
    group1.course.save()
    group1.extension = timezone.now() + timezone.timedelta(days=1)
    group1.save()
    html = alice.get(url(group1)).content.decode()
    assert "extended for this group" in html
    assert ">Edit<" in html


def test_a_course_without_template_gives_404(django_user_model, client):
    course = Course.objects.create(code="EMPTY")
    group = Group.objects.create(course=course, number=1)
    user = django_user_model.objects.create_user("eve", password="x")
    Membership.objects.create(user=user, group=group)
    client.force_login(user)
    assert client.get(url(group)).status_code == 404


def big_template_course(django_user_model, n_questions: int):
    """A course on a generated template with `n_questions` questions, each answered, and one student."""
    from reports_app.engine.parsing import ANSWER_MARKER

    checklist = "\n".join(f"* [ ] item {i}" for i in range(20))
    questions = "\n\n".join(
        f"### Question {n}\n\n> **Question {n}?**\n>\n> Recommended answer length: 10-20 words.\n>\n"
        f"> {ANSWER_MARKER}\n\n--- question {n} fill here ---"
        for n in range(1, n_questions + 1)
    )
    source = f"# Big\n\n## Overall project checklist\n\n### Week 1\n\n{checklist}\n\n## Answers\n\n{questions}\n"
    template, _ = template_load(name=f"big-{n_questions}", source=source)
    course = Course.objects.create(code=f"BIG{n_questions}", template=template)
    group = Group.objects.create(course=course, number=1)
    user = django_user_model.objects.create_user(f"big{n_questions}", password="x")
    Membership.objects.create(user=user, group=group)
    report = report_for_group(group)
    for question in template.questions.all():
        answer_save(report=report, question=question, text="a b c", base_version=0, user=user)
    checklist_set(report=report, changes={1: True, 2: True}, user=user)
    return group, client_for(user.username)


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_report_page_queries_do_not_grow_with_questions_and_answers(django_user_model):
    small_group, small = big_template_course(django_user_model, 3)
    big_group, big = big_template_course(django_user_model, 31)
    # session, user, group+course+template+report+membership, questions, answers, checklist, marks, figures,
    # drafts, members, invitations, whether a grade is released (the "Grades and feedback" link)
    assert count_queries(small, url(small_group)) == count_queries(big, url(big_group)) == 12


def test_edit_page_queries_do_not_grow_with_questions_and_answers(django_user_model):
    small_group, small = big_template_course(django_user_model, 3)
    big_group, big = big_template_course(django_user_model, 31)
    edit = "edit-answer"
    # session, user, group+course+template+report+membership, question (and whether it is the last), answer, the
    # author's draft, who else is editing, figures
    assert (
        count_queries(small, reverse(edit, args=[small_group.pk, 2]))
        == count_queries(big, reverse(edit, args=[big_group.pk, 2]))
        == 8
    )


def test_deviations_of_an_imported_file_are_listed(alice, group1):
    from tests.conftest import read_fixture

    report_import(
        group=group1, text=read_fixture("edited_prompt.md"), template=group1.course.template, label="import: x.md"
    )
    html = alice.get(url(group1)).content.decode()
    problems = group1.report.problems
    assert problems
    assert "The imported file (import: x.md) differs from the template" in html
    assert f"line {problems[0][0]}: " in html


# --- honest states: not answered, the course checker's count, warnings, provenance ---------------------------------


def card(html: str, number: int) -> str:
    """The HTML of question `number`'s card on the report page."""
    return html.split(f'<article class="card mb-3" id="question-{number}"', 1)[1].split("</article>", 1)[0]


def test_an_empty_answer_is_never_shown_green(alice, group1):
    save(group1, 1, "  \n ")  # only whitespace: not answered either
    html = alice.get(url(group1)).content.decode()

    # questions 1, 2 and 7 have no word rule and 8 wants 0-200 words: the checker passes 1, 2 and 8 empty
    assert '<span id="passed">passed 3/10</span> · <span id="answered">answered 0/10</span>' in html
    for number in (1, 8):
        shown = card(html, number)
        assert '<span aria-hidden="true">\u2013 </span>not answered</span>' in shown  # an en dash
        assert "· checker: passes" in shown
        assert "text-bg-success" not in shown
    assert "· checker: fails" in card(html, 3)
    assert "text-bg-success" not in html and "link-success" not in html


def test_jump_links_say_each_state_in_text_as_well_as_colour(alice, group1):
    save(group1, 3, "word " * 60)
    save(group1, 4, "too short")
    html = alice.get(url(group1)).content.decode()

    assert (
        '<a id="jump-3" href="#question-3" class="link-success">Q3 <span aria-hidden="true">✓</span>'
        '<span class="visually-hidden">passes</span></a>'
    ) in html
    assert (
        '<a id="jump-4" href="#question-4" class="link-danger">Q4 <span aria-hidden="true">✗</span>'
        '<span class="visually-hidden">fails</span></a>'
    ) in html
    assert (
        '<a id="jump-8" href="#question-8" class="link-secondary">Q8 <span aria-hidden="true">\u2013</span>'
        '<span class="visually-hidden">not answered</span></a>'
    ) in html
    assert "answered 2/10" in html
    assert '<span aria-hidden="true">✓ </span>passes</span>' in card(html, 3)


def test_a_heading_in_the_last_answer_is_warned_on_its_card_and_the_count_is_the_checkers(alice, group1):
    from django.utils.html import escape

    from reports_app.engine.checks import WARN_LAST_HEADING

    save(group1, 3, "word " * 60)
    save(group1, 10, "word " * 120 + "\n\n### Notes\n\nmore")
    html = alice.get(url(group1)).content.decode()
    result = report_page(group1.report).result

    assert result.course_error and result.passed > 0
    assert escape(WARN_LAST_HEADING) in card(html, 10)
    assert WARN_LAST_HEADING[:40] not in card(html, 3)
    assert '<span id="passed">passed 0/10</span>' in html
    assert f'<code id="course-message">{escape(result.course_error)}</code>' in html
    assert f"for guidance only: {result.passed} of 10 would pass" in html


def test_a_cut_answer_is_warned_on_its_card(alice, group1):
    save(group1, 3, "word " * 60 + "\n\n## Details\n\n" + "more " * 10)
    shown = card(alice.get(url(group1)).content.decode(), 3)
    assert "so it does not count the 12 words after it." in shown


def test_each_answer_says_who_changed_it_last(alice, group1, django_user_model):
    save(group1, 3, "word " * 60, username="bob")
    django_user_model.objects.filter(username="alice").update(first_name="Alice", last_name="Andersen")
    save(group1, 4, "first", username="bob")
    save(group1, 4, "second", username="alice")
    html = alice.get(url(group1)).content.decode()

    assert '<span class="provenance">bob, just now</span> · version 1' in card(html, 3)
    assert '<span class="provenance">Alice Andersen, just now</span> · version 2' in card(html, 4)
    assert reverse("answer-history", args=[group1.pk, 4]) in card(html, 4)
    assert "provenance" not in card(html, 5)


def test_an_answer_from_a_scrape_says_which_commit_and_when(alice, group1, settings, tmp_path):
    from django.utils import formats

    from reports_app.models import Answer
    from reports_app.services.scrapes import group_scrape
    from tests.helpers.repos import FILLED, JAN_20, make_repo, sha_of

    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]
    group1.repo_url = make_repo(tmp_path, "one", [(JAN_20, {"reports/README.md": FILLED})])
    group1.save()
    save(group1, 4, "typed on the site before the scrape")
    assert group_scrape(group=group1, at_deadline=False).status == "ok"
    answer = Answer.objects.get(report__group=group1, question__number=4)
    scraped = formats.date_format(timezone.localtime(answer.updated_at), "j M H:i")

    html = alice.get(url(group1)).content.decode()

    provenance = f"from the repo at {sha_of(group1.repo_url)[:7]}, scraped {scraped}"
    assert f'<span class="provenance">{provenance}</span> · version 2' in card(html, 4)
