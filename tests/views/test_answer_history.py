import pytest
from django.urls import reverse
from django.utils import timezone

from reports_app.forms.students import MAX_VERSION, VERSION_REFUSED_RESTORE
from reports_app.models import Answer, AnswerRevision
from tests.helpers.pages import save


def url(group, number: int = 3) -> str:
    return reverse("answer-history", args=[group.pk, number])


def restore_url(group, revision, number: int = 3) -> str:
    return reverse("restore-answer", args=[group.pk, number, revision.pk])


def test_outsider_gets_404_and_anonymous_goes_to_login(client, charlie, group1):
    save(group1, 3, "v1")
    assert charlie.get(url(group1)).status_code == 404
    assert client.get(url(group1))["Location"].startswith(reverse("login"))


def test_history_lists_every_version_and_shows_the_latest_change_word_by_word(alice, group1):
    save(group1, 3, "the quick brown fox")
    save(group1, 3, "the slow brown fox", username="bob")
    html = alice.get(url(group1)).content.decode()
    assert "Changes from version 1 to" in html and "version 2" in html
    assert '<del class="diff-del">quick</del><ins class="diff-add">slow</ins>' in html
    assert html.count("<tr") == 3  # header + two versions
    assert ">bob<" in html and ">alice<" in html


def test_any_two_versions_can_be_compared(alice, group1):
    save(group1, 3, "one")
    save(group1, 3, "two")
    save(group1, 3, "three")
    v1, v3 = (AnswerRevision.objects.get(version=v) for v in (1, 3))
    html = alice.get(url(group1), {"old": v1.pk, "new": v3.pk}).content.decode()
    assert '<del class="diff-del">one</del><ins class="diff-add">three</ins>' in html


def test_restore_saves_the_old_text_as_a_new_version(alice, group1):
    save(group1, 3, "original")
    save(group1, 3, "rewritten")
    v1 = AnswerRevision.objects.get(version=1)
    response = alice.post(restore_url(group1, v1), {"version": 2}, follow=True)
    assert "Restored as version 3." in response.content.decode()
    answer = Answer.objects.get()
    assert (answer.text, answer.version) == ("original", 3)
    assert list(answer.revisions.values_list("version", "source")) == [
        (3, "restore of v1"),
        (2, "web"),
        (1, "web"),
    ]


def test_restore_from_a_stale_page_does_not_overwrite(alice, bob, group1):
    save(group1, 3, "original")
    save(group1, 3, "bob's", username="bob")
    v1 = AnswerRevision.objects.get(version=1)
    response = alice.post(restore_url(group1, v1), {"version": 1}, follow=True)
    assert "Not restored: version 2 was saved in the meantime." in response.content.decode()
    assert Answer.objects.get().text == "bob's"
    assert AnswerRevision.objects.filter(kind="conflict", text="original").exists()


def test_a_conflicting_attempt_can_be_restored(alice, bob, group1):
    save(group1, 3, "v1")
    bob.post(reverse("edit-answer", args=[group1.pk, 3]), {"text": "bob v2", "version": 1})
    alice.post(reverse("edit-answer", args=[group1.pk, 3]), {"text": "alice lost", "version": 1})
    attempt = AnswerRevision.objects.get(kind="conflict")
    assert "not saved (on v1)" in alice.get(url(group1)).content.decode()
    alice.post(restore_url(group1, attempt), {"version": 2})
    answer = Answer.objects.get()
    assert (answer.text, answer.version) == ("alice lost", 3)
    assert answer.revisions.get(version=3).source == "restore of an unsaved attempt"


def test_restore_is_refused_to_outsiders_and_after_the_deadline(alice, charlie, group1):
    save(group1, 3, "original")
    save(group1, 3, "second")
    v1 = AnswerRevision.objects.get(version=1)
    assert charlie.post(restore_url(group1, v1), {"version": 2}).status_code == 404
    group1.course.deadline = timezone.now() - timezone.timedelta(seconds=1)
    group1.course.save()
    response = alice.post(restore_url(group1, v1), {"version": 2}, follow=True)
    assert "The hand-in closed on" in response.content.decode()
    assert Answer.objects.get().text == "second"


def test_a_revision_of_another_question_cannot_be_restored_here(alice, group1):
    save(group1, 4, "question four")
    save(group1, 3, "question three")
    other = AnswerRevision.objects.get(answer__question__number=4)
    assert alice.post(restore_url(group1, other, number=3), {"version": 1}).status_code == 404


@pytest.mark.parametrize("version", [str(10**25), str(MAX_VERSION + 1), "-1", "two", ""])
def test_a_restore_with_a_version_the_page_cannot_have_sent_is_refused_and_changes_nothing(alice, group1, version):
    save(group1, 3, "original")
    save(group1, 3, "rewritten")
    v1 = AnswerRevision.objects.get(version=1)
    response = alice.post(restore_url(group1, v1), {"version": version})
    assert response.status_code == 302 and response["Location"] == url(group1)
    assert VERSION_REFUSED_RESTORE in alice.get(url(group1)).content.decode()
    answer = Answer.objects.get()
    assert (answer.text, answer.version, AnswerRevision.objects.count()) == ("rewritten", 2, 2)


@pytest.mark.parametrize("chosen", [str(10**25), "²", "-1", "v1"])
def test_a_version_choice_that_is_no_revision_shows_the_latest_change(alice, group1, chosen):
    save(group1, 3, "the quick fox")
    save(group1, 3, "the slow fox")
    response = alice.get(url(group1), {"old": chosen, "new": chosen})
    assert response.status_code == 200
    assert '<del class="diff-del">quick</del><ins class="diff-add">slow</ins>' in response.content.decode()
