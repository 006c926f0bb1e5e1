from django.urls import reverse

from reports_app.models import Course, Group, Membership


def test_anonymous_goes_to_login(client, db):
    assert client.get(reverse("home"))["Location"] == f"{reverse('login')}?next=/"


def test_a_student_in_one_group_lands_on_its_report(alice, group1):
    assert alice.get(reverse("home"))["Location"] == reverse("report", args=[group1.pk])


def test_a_student_in_several_courses_picks_one(alice, group1, demo_template, django_user_model):
    other = Group.objects.create(course=Course.objects.create(code="C2", template=demo_template), number=7)
    Membership.objects.create(user=django_user_model.objects.get(username="alice"), group=other)
    html = alice.get(reverse("home")).content.decode()
    assert reverse("report", args=[group1.pk]) in html and reverse("report", args=[other.pk]) in html
    assert "C2" in html and "group 7" in html


def test_a_user_without_group_is_told_what_to_do(client, django_user_model, db):
    client.force_login(django_user_model.objects.create_user("loner", password="x"))
    assert "You are not in any group yet." in client.get(reverse("home")).content.decode()


def test_staff_see_every_group_of_every_course(staff, group1, group2):
    html = staff.get(reverse("home")).content.decode()
    assert reverse("report", args=[group1.pk]) in html and reverse("report", args=[group2.pk]) in html
