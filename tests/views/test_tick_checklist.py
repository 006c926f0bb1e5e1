import pytest
from django.urls import reverse
from django.utils import timezone

from reports_app.models import ChecklistMark

JSON = {"HTTP_ACCEPT": "application/json"}


def url(group) -> str:
    return reverse("tick-checklist", args=[group.pk])


def ticked(group) -> list[int]:
    return sorted(
        ChecklistMark.objects.filter(report__group=group, checked=True).values_list("item__position", flat=True)
    )


def test_a_tick_from_javascript_saves_one_item_and_answers_json(alice, group1):
    alice.get(reverse("report", args=[group1.pk]))
    response = alice.post(url(group1), {"item": 2}, **JSON)
    assert response.json() == {"saved": {"2": True}}
    assert ticked(group1) == [2]
    mark = ChecklistMark.objects.get(item__position=2)
    assert (mark.mark, mark.updated_by.username) == ("x", "alice")
    assert alice.post(url(group1), {"was": 2}, **JSON).json() == {"saved": {"2": False}}
    assert ticked(group1) == []


def test_the_form_without_javascript_saves_only_what_changed_on_that_page(alice, bob, group1):
    alice.post(url(group1), {"item": [1]})  # alice ticks 1
    # bob's page was loaded before alice's tick: 1 shown unticked. He ticks 3 and submits the whole form.
    response = bob.post(url(group1), {"item": [3]})
    assert response["Location"] == reverse("report", args=[group1.pk]) + "#checklist"
    assert ticked(group1) == [1, 3]  # alice's tick survives
    bob.post(url(group1), {"item": [1], "was": [1, 3]})  # bob unticks 3 on a fresh page
    assert ticked(group1) == [1]


def test_the_page_shows_ticks_grouped_by_week(alice, group1):
    alice.post(url(group1), {"item": [6]})
    html = alice.get(reverse("report", args=[group1.pk])).content.decode()
    assert html.index('<legend class="h6">Week 1</legend>') < html.index('<legend class="h6">Week 2</legend>')
    assert 'value="6"\n                   id="item-6" checked>' in html
    assert '<input type="hidden" name="was" value="6" id="was-6">' in html


def test_an_unknown_item_is_refused(alice, group1):
    response = alice.post(url(group1), {"item": 99}, **JSON)
    assert response.status_code == 400
    assert response.json() == {"error": "no checklist item at position 99"}


def test_outsiders_get_404_and_staff_cannot_tick(charlie, staff, group1):
    assert charlie.post(url(group1), {"item": 1}).status_code == 404
    response = staff.post(url(group1), {"item": 1}, **JSON)
    assert response.status_code == 403
    assert response.json() == {"error": "Only the group's members can change its report."}
    assert ticked(group1) == []


def test_ticks_after_the_deadline_are_refused_with_the_reason(alice, group1):
    group1.course.deadline = timezone.now() - timezone.timedelta(seconds=1)
    group1.course.save()
    response = alice.post(url(group1), {"item": 1}, **JSON)
    assert response.status_code == 403
    assert response.json()["error"].startswith("The hand-in closed on")
    assert ticked(group1) == []


def test_get_is_not_allowed(alice, group1):
    assert alice.get(url(group1)).status_code == 405


@pytest.mark.parametrize("item", [str(10**25), "32768", "²", "two"])
def test_an_item_no_checklist_can_have_is_refused_like_an_unknown_one(alice, group1, item):
    """32768 is one more than the database stores as a position; 10**25 is more than it stores at all."""
    response = alice.post(url(group1), {"item": item}, **JSON)
    assert response.status_code == 400
    assert response.json() == {"error": f"no checklist item at position {item}"}
    for sent in ({"item": ["2", item]}, {"item": ["2"], "was": [item]}):
        response = alice.post(url(group1), sent, follow=True)
        assert f"Checklist not saved: no checklist item at position {item}." in response.content.decode()
    assert ticked(group1) == []
