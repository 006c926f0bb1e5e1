"""selectors.provenance: who or what changed an answer last, in words, from its current revision."""

from datetime import UTC, datetime, timedelta

from reports_app.models import Answer, AnswerRevision
from reports_app.selectors.provenance import answer_provenance, latest_revisions, with_current_source
from reports_app.services.answers import answer_restore
from reports_app.services.reports import report_for_group, report_import
from tests.conftest import read_fixture
from tests.helpers.pages import save

NOON = datetime(2026, 1, 12, 13, 3, tzinfo=UTC)  # 14:03 in Copenhagen


def current(group, number: int) -> tuple[Answer, str | None]:
    answer = with_current_source(Answer.objects.select_related("updated_by")).get(
        report__group=group, question__number=number
    )
    return answer, answer.current_source


def at_noon(group, number: int) -> None:
    Answer.objects.filter(report__group=group, question__number=number).update(updated_at=NOON)


def test_a_web_save_names_the_member_and_how_long_ago(group1, django_user_model):
    save(group1, 3, "first", username="bob")
    answer, source = current(group1, 3)
    assert (source, answer_provenance(answer, source)) == ("web", "bob, just now")
    assert answer_provenance(answer, source, now=answer.updated_at + timedelta(minutes=2)) == "bob, 2\xa0minutes ago"

    django_user_model.objects.filter(username="bob").update(first_name="Bob", last_name="Berg")
    answer, source = current(group1, 3)
    assert answer_provenance(answer, source) == "Bob Berg, just now"


def test_a_scraped_answer_names_the_commit_and_the_scrape_time(group1):
    sha = "0123456789abcdef0123456789abcdef01234567"
    report_import(group=group1, text=read_fixture("filled.md"), template=group1.course.template, label=f"repo@{sha}")
    at_noon(group1, 3)
    answer, source = current(group1, 3)
    assert answer_provenance(answer, source, now=NOON) == "from the repo at 0123456, scraped 12 Jan 14:03"
    assert answer_provenance(answer, source, now=NOON + timedelta(days=365)) == (
        "from the repo at 0123456, scraped 12 Jan 2026 14:03"
    )


def test_an_imported_answer_names_the_file(group1):
    report_import(group=group1, text=read_fixture("filled.md"), template=group1.course.template, label="import: r.md")
    at_noon(group1, 3)
    answer, source = current(group1, 3)
    assert answer_provenance(answer, source, now=NOON) == "imported from r.md, 12 Jan 14:03"


def test_a_restore_names_the_version_and_who_restored_it(group1, django_user_model):
    save(group1, 3, "first", username="bob")
    save(group1, 3, "second", username="bob")
    first = AnswerRevision.objects.get(answer__question__number=3, version=1)
    answer_restore(
        report=report_for_group(group1),
        revision=first,
        base_version=2,
        user=django_user_model.objects.get(username="alice"),
    )
    answer, source = current(group1, 3)
    assert (answer.version, answer_provenance(answer, source)) == (3, "restored from v1 by alice, just now")


def test_an_answer_never_saved_has_no_provenance(group1):
    assert answer_provenance(Answer(version=0), None) == ""


def test_latest_revisions_gives_each_answers_current_revision_in_one_query(group1, django_assert_num_queries):
    save(group1, 3, "first", username="bob")
    save(group1, 3, "second", username="alice")
    save(group1, 4, "only", username="bob")
    answers = list(Answer.objects.filter(report__group=group1))

    with django_assert_num_queries(1):
        latest = latest_revisions(answers)
        authors = {a.pk: latest[a.pk].author.username for a in answers}

    assert {a.question.number: (latest[a.pk].version, latest[a.pk].text) for a in answers} == {
        3: (2, "second"),
        4: (1, "only"),
    }
    assert sorted(authors.values()) == ["alice", "bob"]
