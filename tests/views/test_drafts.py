"""Drafts and the editor script's saves: typed text is kept per author while they type, comes back when they open the
editor, goes once they save; and every save the script sends is answered in JSON, refused or not, without a redirect
that would lose the text."""

import json
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reports_app.models import Answer, AnswerRevision, Draft
from reports_app.views.access import SESSION_ENDED
from reports_app.views.system import CSRF_REFUSED
from tests.helpers.pages import preview, save
from tests.helpers.processes import without_database

ROOT = Path(__file__).resolve().parents[2]
JSON = {"HTTP_ACCEPT": "application/json"}


def edit_url(group, number: int = 3) -> str:
    return reverse("edit-answer", args=[group.pk, number])


def draft_url(group, number: int = 3) -> str:
    return reverse("answer-draft", args=[group.pk, number])


def test_a_draft_is_kept_for_its_author_and_restored_when_they_open_the_editor(alice, bob, group1):
    response = alice.post(draft_url(group1), {"text": "Half a thought about our data", "version": 0}, **JSON)
    assert response.status_code == 200 and response.json()["saved_at"]
    draft = Draft.objects.get()
    assert (draft.author.username, draft.text, draft.base_version) == ("alice", "Half a thought about our data", 0)
    assert not Answer.objects.filter(version__gt=0).exists() and not AnswerRevision.objects.exists()  # not a version

    page = alice.get(edit_url(group1)).content.decode()
    assert "Restored your unsaved draft" in page
    assert ">Half a thought about our data</textarea>" in page

    teammate = bob.get(edit_url(group1)).content.decode()
    assert "Half a thought" not in teammate  # a draft's text is its author's alone
    assert "alice is editing this answer too." in teammate


def test_saving_discards_the_authors_draft_only(alice, bob, group1):
    alice.post(draft_url(group1), {"text": "alice typing", "version": 0}, **JSON)
    bob.post(draft_url(group1), {"text": "bob typing", "version": 0}, **JSON)
    alice.post(edit_url(group1), {"text": "alice's answer", "version": 0})
    assert list(Draft.objects.values_list("author__username", flat=True)) == ["bob"]
    assert "Restored your unsaved draft" not in alice.get(edit_url(group1)).content.decode()


def test_a_draft_started_before_a_teammates_save_restores_and_then_shows_the_conflict(alice, bob, group1):
    alice.post(draft_url(group1), {"text": "alice's long paragraph", "version": 0}, **JSON)
    save(group1, 3, "bob's version", username="bob")
    page = alice.get(edit_url(group1)).content.decode()
    assert "Version 1 was saved after you started it" in page
    assert 'name="version" value="0"' in page  # so that saving it conflicts instead of overwriting bob

    response = alice.post(edit_url(group1), {"text": "alice's long paragraph", "version": 0}, **JSON)
    assert response.status_code == 409
    conflict = response.json()["conflict"]
    assert (conflict["version"], conflict["author"], conflict["text"]) == (1, "bob", "bob's version")
    assert '<del class="diff-del">bob&#x27;s</del><ins class="diff-add">alice&#x27;s</ins>' in conflict["panel_html"]
    assert '<del class="diff-del">version</del><ins class="diff-add">long paragraph</ins>' in conflict["panel_html"]
    assert Answer.objects.get().text == "bob's version"
    assert AnswerRevision.objects.filter(kind="conflict", text="alice's long paragraph").exists()
    assert Draft.objects.filter(author__username="alice").exists()  # nothing was saved: the draft stays


def test_the_scripts_save_answers_json_and_stays(alice, group1):
    response = alice.post(edit_url(group1), {"text": "Our data is *hourly*.", "version": 0}, **JSON)
    data = response.json()
    assert response.status_code == 200
    assert (data["version"], data["message"]) == (1, "Question 3 saved (version 1).")
    assert data["html"] == "<p>Our data is <em>hourly</em>.</p>"
    assert 'id="question-3"' in data["card_html"] and "Our data is <em>hourly</em>." in data["card_html"]
    assert '<span class="visually-hidden">fails</span>' in data["jump_html"]  # 4 words of 50-100
    assert (data["answered"], data["total"], data["provenance"]) == (1, 10, "alice, just now")
    report_page = alice.get(reverse("report", args=[group1.pk])).content.decode()
    assert f"passed {data['passed']}/10</span>" in report_page  # the count the page shows


def test_a_save_after_the_session_ended_gets_401_and_where_to_log_in(client, group1):
    response = client.post(edit_url(group1), {"text": "typed for an hour", "version": 0}, **JSON)
    assert response.status_code == 401
    assert response.json() == {"error": SESSION_ENDED, "login": f"{reverse('login')}?next={edit_url(group1)}"}
    assert not Answer.objects.exists()


def test_a_stale_csrf_token_gets_json_and_a_fresh_token_from_session_works(group1):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="alice"))
    refused = client.post(edit_url(group1), {"text": "kept", "version": 0}, HTTP_X_CSRFTOKEN="stale" * 8, **JSON)
    assert (refused.status_code, refused.json()) == (403, {"error": CSRF_REFUSED, "csrf": True})
    session = client.get(reverse("session")).json()
    assert session["authenticated"] is True
    saved = client.post(edit_url(group1), {"text": "kept", "version": 0}, HTTP_X_CSRFTOKEN=session["csrf"], **JSON)
    assert saved.status_code == 200 and Answer.objects.get().text == "kept"


def test_the_in_page_login_answers_json(group1, django_user_model):
    client = Client()
    bad = client.post(reverse("login"), {"username": "alice", "password": "wrong"}, **JSON)
    assert bad.status_code == 400 and "correct" in bad.json()["error"]
    user = django_user_model.objects.get(username="alice")
    user.set_password("a long password 1")
    user.save()
    good = client.post(reverse("login"), {"username": "alice", "password": "a long password 1"}, **JSON)
    assert good.status_code == 200 and good.json()["authenticated"] and good.json()["csrf"]
    assert client.get(reverse("session")).json()["authenticated"] is True


def test_after_the_deadline_saves_and_drafts_are_refused_in_json(alice, group1):
    group1.course.deadline = timezone.now() - timedelta(minutes=1)
    group1.course.save()
    saved = alice.post(edit_url(group1), {"text": "late words", "version": 0}, **JSON)
    drafted = alice.post(draft_url(group1), {"text": "late words", "version": 0}, **JSON)
    assert (saved.status_code, drafted.status_code) == (403, 403)
    assert "hand-in closed" in saved.json()["error"] and "hand-in closed" in drafted.json()["error"]
    assert not Answer.objects.exists() and not Draft.objects.exists()


def test_a_draft_the_form_refuses_gets_400_with_why(alice, group1):
    response = alice.post(draft_url(group1), {"text": "x", "version": "-1"}, **JSON)
    assert response.status_code == 400 and response.json()["error"]
    assert not Draft.objects.exists()


def test_presence_poll_says_who_is_typing_and_the_version_now(alice, bob, group1):
    bob.post(draft_url(group1), {"text": "bob typing", "version": 0}, **JSON)
    save(group1, 3, "bob saved something else", username="bob")  # bob's draft goes, but he typed again:
    bob.post(draft_url(group1), {"text": "bob typing more", "version": 1}, **JSON)
    data = alice.get(draft_url(group1), **JSON).json()
    assert data == {"saved_at": None, "editing": ["bob"], "version": 1, "updated_by": "bob"}


def test_presence_forgets_a_draft_older_than_the_presence_window(alice, bob, group1, settings):
    bob.post(draft_url(group1), {"text": "bob typing", "version": 0}, **JSON)
    Draft.objects.update(updated_at=timezone.now() - timedelta(seconds=settings.DRAFT_PRESENCE_SECONDS + 1))
    assert alice.get(draft_url(group1), **JSON).json()["editing"] == []


def test_the_fragment_is_the_editor_alone_for_the_report_page(alice, group1):
    page = alice.get(edit_url(group1) + "?fragment=1").content.decode()
    assert page.lstrip().startswith('<div class="editor"') and "<html" not in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_draft_sent_while_typing_brings_the_preview_and_the_warnings_back(alice, group1):
    data = preview(alice, group1, 3, "a\n\n## b\n\nAnswer: x").json()
    assert data["html"].startswith("<p>a</p>") and data["warnings"][0].startswith("'Answer:' cannot be saved")
    assert Draft.objects.get().text == "a\n\n## b\n\nAnswer: x"  # kept as typed, though a save refuses it


def test_a_save_while_the_database_is_down_gets_json_503():
    """The editor's script keeps the text and says so; the server says why in JSON, not a page."""
    code = (
        "from django.test import Client; "
        "c = Client(raise_request_exception=False); c.cookies['sessionid'] = 'x' * 32; "
        "r = c.post('/groups/1/questions/1/', {'text': 'typed', 'version': '3'}, HTTP_ACCEPT='application/json'); "
        "import json; print(json.dumps([r.status_code, r['Content-Type'], r.content.decode()]))"
    )
    result = without_database(code, debug=False)
    status, content_type, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert (status, content_type) == (503, "application/json"), result.stderr
    assert "cannot reach its database" in json.loads(body)["error"]


def test_the_report_page_says_where_a_draft_waits_and_who_is_typing(alice, bob, group1):
    alice.post(draft_url(group1, 3), {"text": "alice typing", "version": 0}, **JSON)
    bob.post(draft_url(group1, 4), {"text": "bob typing", "version": 0}, **JSON)
    page = alice.get(reverse("report", args=[group1.pk])).content.decode()
    card3 = page.split('id="question-3"')[1].split("</article>")[0]
    card4 = page.split('id="question-4"')[1].split("</article>")[0]
    assert "Your unsaved draft from" in card3 and "editing this answer" not in card3
    assert "bob is editing this answer." in card4 and "Your unsaved draft" not in card4


def test_the_editor_says_who_changed_the_answer_last(alice, group1):
    save(group1, 3, "bob's words", username="bob")
    page = alice.get(edit_url(group1)).content.decode()
    assert '<span class="provenance">bob, just now</span> · version 1' in page
