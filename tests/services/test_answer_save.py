"""Concurrent saves of one answer, each from its own thread and database connection: nothing acknowledged is lost."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from reports_app.models import Answer, AnswerRevision, Question
from reports_app.services.answers import AnswerConflict, DeadlinePassed, answer_save
from reports_app.services.reports import report_for_group


def run_at_once(*functions):
    """Call the functions in threads released together; return their results or exceptions, in order."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def run(i, function):
        try:
            barrier.wait()
            results[i] = function()
        except Exception as error:  # the test looks at what each thread got
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def report(transactional_db, group1):
    return report_for_group(group1)


def saver(report, text, base_version, username):
    question = Question.objects.get(template=report.template, number=3)
    user = get_user_model().objects.get(username=username)
    return lambda: answer_save(report=report, question=question, text=text, base_version=base_version, user=user)


def test_two_saves_on_the_same_version_one_wins_and_the_other_is_kept_as_a_conflict(report):
    results = run_at_once(saver(report, "alice's", 0, "alice"), saver(report, "bob's", 0, "bob"))
    winners = [r for r in results if isinstance(r, Answer)]
    losers = [r for r in results if isinstance(r, AnswerConflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    answer = Answer.objects.get()
    assert answer.version == 1 and answer.text == winners[0].text
    assert losers[0].answer.text == winners[0].text
    assert sorted(AnswerRevision.objects.values_list("kind", "text")) == sorted(
        [("saved", winners[0].text), ("conflict", "bob's" if winners[0].text == "alice's" else "alice's")]
    )


def test_many_writers_who_merge_on_conflict_lose_nothing(report):
    """Each writer appends its line and retries on conflict by merging into the newer text, as the page asks."""
    writers, lines_each = 4, 5

    def writer(name):
        def work():
            question = Question.objects.get(template=report.template, number=3)
            user = get_user_model().objects.get(username="alice")
            acknowledged = []
            for i in range(lines_each):
                answer = Answer.objects.filter(report=report, question=question).first()
                text, version = (answer.text, answer.version) if answer else ("", 0)
                line = f"{name}-{i}"
                while True:
                    try:
                        answer_save(
                            report=report,
                            question=question,
                            text=f"{text}\n{line}".strip(),
                            base_version=version,
                            user=user,
                        )
                        acknowledged.append(line)
                        break
                    except AnswerConflict as conflict:
                        text, version = conflict.answer.text, conflict.answer.version
            return acknowledged

        return work

    results = run_at_once(*(writer(f"w{n}") for n in range(writers)))
    acknowledged = [line for result in results for line in result]
    assert len(acknowledged) == writers * lines_each, results
    final = Answer.objects.get()
    assert sorted(final.text.split("\n")) == sorted(acknowledged)
    assert final.version == writers * lines_each
    saved_versions = list(final.revisions.filter(kind="saved").values_list("version", flat=True))
    assert sorted(saved_versions) == list(range(1, writers * lines_each + 1))


def test_the_service_itself_refuses_a_closed_hand_in(report):
    from django.utils import timezone

    course = report.group.course
    course.deadline = timezone.now()
    course.save()
    report.group.refresh_from_db()
    with pytest.raises(DeadlinePassed, match="The hand-in closed on"):
        saver(report, "late", 0, "alice")()
    assert not Answer.objects.exists()
