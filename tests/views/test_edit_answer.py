import html
import re

import markdown
import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from reports_app.engine import checks, rendering
from reports_app.forms.students import MAX_ANSWER_CHARS, MAX_VERSION, VERSION_REFUSED
from reports_app.models import Answer, AnswerRevision
from tests.helpers.hostile import A_LIST, BRACKETS, NESTED
from tests.helpers.pages import preview, save


def url(group, number: int = 3) -> str:
    return reverse("edit-answer", args=[group.pk, number])


def test_anonymous_is_sent_to_login(client, group1):
    assert client.get(url(group1))["Location"].startswith(reverse("login"))


def test_outsider_gets_404_and_cannot_save(charlie, group1):
    assert charlie.get(url(group1)).status_code == 404
    assert charlie.post(url(group1), {"text": "mine now", "version": 0}).status_code == 404
    assert not Answer.objects.exists()


def test_unknown_question_gets_404(alice, group1):
    assert alice.get(url(group1, 99)).status_code == 404


def test_first_save_creates_version_1_and_returns_to_the_question(alice, group1):
    response = alice.post(url(group1), {"text": "Our data comes from a weather API.", "version": 0})
    assert response["Location"] == reverse("report", args=[group1.pk]) + "#question-3"
    answer = Answer.objects.get(report__group=group1, question__number=3)
    assert (answer.text, answer.version, answer.updated_by.username) == (
        "Our data comes from a weather API.",
        1,
        "alice",
    )
    assert list(answer.revisions.values_list("version", "kind", "source")) == [(1, "saved", "web")]
    assert "Question 3 saved (version 1)." in alice.get(response["Location"]).content.decode()


def test_browser_line_ends_and_surrounding_blank_lines_are_normalised(alice, group1):
    alice.post(url(group1), {"text": "\r\n\r\nfirst line\r\n\r\n    code\r\n\r\n  ", "version": 0})
    assert Answer.objects.get().text == "first line\n\n    code"


def test_saving_the_same_text_again_adds_no_version(alice, group1):
    alice.post(url(group1), {"text": "same", "version": 0})
    alice.post(url(group1), {"text": "same", "version": 1})
    assert Answer.objects.get().version == 1
    assert AnswerRevision.objects.count() == 1


def test_edit_page_shows_the_servers_counts_and_the_rule(alice, group1):
    save(group1, 3, "one two three ![a](figures/a.png)")
    html = alice.get(url(group1)).content.decode()
    assert 'class="word-count">4</strong> of 50-100' in html
    assert 'class="image-count">1</strong>' in html
    assert "The course checker wants" in html and "50-100 words" in html
    assert 'data-words="50,100"' in html and 'data-last="0"' in html


def test_the_last_question_is_marked_as_last_for_the_counters(alice, group1):
    assert 'data-last="1"' in alice.get(url(group1, 10)).content.decode()


def test_stale_save_never_overwrites_and_keeps_both_texts(alice, bob, group1):
    alice.post(url(group1), {"text": "first version", "version": 0})
    bob.post(url(group1), {"text": "bob's newer text", "version": 1})
    response = alice.post(url(group1), {"text": "alice's text from the old page", "version": 1})
    assert response.status_code == 200
    html = response.content.decode()
    assert "bob saved this answer while you were editing" in html
    assert "bob saved version 2" in html
    assert '<del class="diff-del">bob&#x27;s newer</del><ins class="diff-add">alice&#x27;s</ins> text' in html
    assert "alice&#x27;s text from the old page</textarea>" in html  # her text stays in the editor
    assert 'id="newer-text">bob&#x27;s newer text</pre>' in html  # beside the newer one
    assert 'name="version" value="2"' in html  # saving the merge is based on the newer version
    answer = Answer.objects.get()
    assert (answer.text, answer.version) == ("bob's newer text", 2)
    conflict = answer.revisions.get(kind="conflict")
    assert (conflict.text, conflict.version, conflict.author.username) == ("alice's text from the old page", 1, "alice")

    alice.post(url(group1), {"text": "merged text", "version": 2})
    answer.refresh_from_db()
    assert (answer.text, answer.version) == ("merged text", 3)


def test_answer_marker_is_refused_and_the_text_kept(alice, group1):
    response = alice.post(url(group1), {"text": "Answer: yes", "version": 0})
    assert response.status_code == 200
    assert "cannot appear inside an answer" in response.content.decode()
    assert "Answer: yes</textarea>" in response.content.decode()
    assert not Answer.objects.exists()


def test_too_long_answers_are_refused(alice, group1):
    response = alice.post(url(group1), {"text": "x" * (MAX_ANSWER_CHARS + 1), "version": 0})
    assert "Ensure this value has at most 100000 characters" in response.content.decode()
    assert not Answer.objects.exists()


def test_preview_button_without_javascript_renders_and_saves_nothing(alice, group1):
    response = alice.post(url(group1), {"text": "**bold** <script>alert(1)</script>", "version": 0, "preview": ""})
    html = response.content.decode()
    assert "<strong>bold</strong>" in html and "alert(1)" not in html.split('id="preview-3"')[1]
    assert not Answer.objects.exists()


def test_the_preview_is_sanitized_html(alice, charlie, group1):
    response = preview(alice, group1, 3, "![plot](figures/plot.png)\n\n<img src=x onerror=alert(1)>")
    html = response.json()["html"]
    assert f'src="{reverse("figure", args=[group1.pk, "plot.png"])}"' in html
    assert "onerror" not in html
    assert preview(charlie, group1, 3, "x").status_code == 404


def test_saving_after_the_deadline_is_refused_with_the_reason_and_the_text_kept_to_copy(alice, group1):
    group1.course.deadline = timezone.now() - timezone.timedelta(minutes=5)
    group1.course.save()
    response = alice.post(url(group1), {"text": "too late", "version": 0})
    assert response.status_code == 403
    html = response.content.decode()
    assert "The hand-in closed on" in html and "Your text was not saved; it is below to copy." in html
    assert 'id="unsaved-text" readonly>too late</textarea>' in html
    assert not Answer.objects.exists()
    assert 'id="answer-form"' not in alice.get(url(group1)).content.decode()  # read-only page, no editor


def test_a_deadline_passing_between_the_check_and_the_save_is_refused_the_same_way(alice, group1, monkeypatch):
    from reports_app.models import Group

    calls = iter([True, False])  # open when the view checks, closed when the service checks
    monkeypatch.setattr(Group, "is_open", lambda self, now=None: next(calls))
    response = alice.post(url(group1), {"text": "just too late", "version": 0})
    assert response["Location"] == reverse("report", args=[group1.pk])
    assert not Answer.objects.exists()


def test_staff_who_are_not_members_cannot_save(staff, group1):
    response = staff.post(url(group1), {"text": "staff text", "version": 0})
    assert response.status_code == 403
    assert "Only the group&#x27;s members can change its report." in response.content.decode()
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    ("text", "last", "words", "images"),
    [
        ("a\u00a0b\u2003c\x1cd\x85e\ufefff", False, 5, 0),  # Python's whitespace, not JavaScript's
        ("x ![a](b) ![c](d)\n![e](\nf)", False, 5, 2),  # the image pattern stays on one line
        ("counted ## not counted", False, 1, 0),
        ("counted ## also counted", True, 4, 0),
    ],
)
def test_check_alone_counts_like_the_course_in_a_well_formed_report(text, last, words, images):
    result = checks.check_alone(text, checks.Rule(1), is_last=last)
    assert (result.words, result.images) == (words, images)
    # The same text cut by the course checker out of a README, as the first of two answers or as the only one
    readme = "# R\n### Question 1\n> Answer:\n\n" + text + ("" if last else "\n\n### Question 2\n> Answer:\nx\n")
    cut = checks.course_answers(readme, checks.CHECKERS["typer"])[0]
    assert (checks.count_words(cut), checks.count_images(cut)) == (words, images)


# --- text that cannot be rendered: saved as typed, shown with why, nothing left behind for the next save -------------


def test_an_answer_that_cannot_be_rendered_is_saved_as_typed_and_the_next_save_renders_whole(alice, bob, group1):
    response = alice.post(url(group1, 6), {"text": NESTED, "version": 0}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Question 6 saved (version 1)." in page
    assert (
        "Question 6 cannot be rendered: nested 500 levels deep. Your text is saved as typed; the report shows it "
        "unformatted until it can be rendered."
    ) in page
    hostile = Answer.objects.get(question__number=6)
    assert hostile.text == NESTED.rstrip()  # every word kept
    assert hostile.html == rendering.unrendered_html(hostile.text, "nested 500 levels deep", what="Question 6")

    assert bob.post(url(group1, 3), {"text": A_LIST, "version": 0}).status_code == 302
    normal = Answer.objects.get(question__number=3)
    assert normal.html == rendering.sanitize(markdown.markdown(normal.text))
    assert "<ol>" in normal.html

    report = bob.get(reverse("report", args=[group1.pk]))
    assert report.status_code == 200
    assertContains(report, normal.html, html=False)
    assertContains(report, "Question 6 cannot be rendered: nested 500 levels deep. It is shown as typed.")
    assertContains(report, "1. 1. 1. 1. 1.")

    alice.post(url(group1, 6), {"text": A_LIST, "version": 1})
    hostile.refresh_from_db()
    assert (hostile.version, hostile.html) == (2, normal.html)


@pytest.mark.timeout(30)
def test_an_answer_past_the_render_budget_is_saved_as_typed(alice, group1, short_budget):
    response = alice.post(url(group1, 6), {"text": BRACKETS, "version": 0}, follow=True)
    assertContains(response, "Question 6 cannot be rendered: the renderer took longer than 1 s. Your text is saved")
    assert Answer.objects.get(question__number=6).text == BRACKETS


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("text", "why"),
    [(NESTED, "nested 500 levels deep"), (BRACKETS, "the renderer took longer than 1 s")],
    ids=["nested", "brackets"],
)
def test_preview_of_text_that_cannot_be_rendered_shows_it_as_typed_with_why(alice, group1, short_budget, text, why):
    response = preview(alice, group1, 3, text)
    assert response.status_code == 200
    assert response.json()["html"] == rendering.unrendered_html(text.rstrip(), why, what="Question 3")
    assert preview(alice, group1, 3, A_LIST).json()["html"] == rendering.sanitize(markdown.markdown(A_LIST.rstrip()))


def test_preview_button_without_javascript_shows_text_that_cannot_be_rendered_as_typed(alice, group1):
    response = alice.post(url(group1), {"text": NESTED, "version": 0, "preview": ""})
    assertContains(response, "Question 3 cannot be rendered: nested 500 levels deep. It is shown as typed.")
    assert not Answer.objects.exists()


def test_preview_is_refused_after_the_deadline_and_to_staff(alice, staff, group1):
    assert preview(staff, group1, 3, "x").status_code == 403
    group1.course.deadline = timezone.now() - timezone.timedelta(minutes=5)
    group1.course.save()
    response = preview(alice, group1, 3, "*too late*")
    assert response.status_code == 403
    assert "The hand-in closed on" in response.json()["error"] and "html" not in response.json()


@pytest.mark.parametrize("version", [str(10**25), str(MAX_VERSION + 1), "-1", "two", ""])
def test_a_version_the_page_cannot_have_sent_is_refused_and_the_text_stays_in_the_editor(alice, group1, version):
    """The version is a hidden field: a bad one is named above the editor, and nothing typed is lost."""
    save(group1, 3, "Our saved answer.")
    response = alice.post(url(group1), {"text": "A paragraph typed with care.", "version": version})
    assert response.status_code == 200
    page = response.content.decode()
    assert html.escape(VERSION_REFUSED) in page
    assert re.search(r'<textarea name="text"[^>]*>A paragraph typed with care\.</textarea>', page)
    answer = Answer.objects.get()
    assert (answer.text, answer.version, answer.revisions.count()) == ("Our saved answer.", 1, 1)


def test_the_editor_gets_the_course_checkers_warnings_for_the_text(alice, group1):
    from reports_app.engine.checks import WARN_LAST_HEADING

    save(group1, 10, "word " * 120 + "\n\n### Notes\n\n--- question 10 fill here ---")
    response = alice.get(reverse("edit-answer", args=[group1.pk, 10]))
    assert response.context["warnings"] == [
        WARN_LAST_HEADING,
        "This answer still holds the template's placeholder '--- question 10 fill here ---', and the course checker "
        "counts its 6 words.",
    ]
