"""The page for an address that leads nowhere, or to another group (templates/404.html, Django's handler): our
layout, so that it fits a phone, with a way back."""

from django.urls import reverse
from pytest_django.asserts import assertContains, assertTemplateUsed


def test_a_student_of_another_group_gets_our_page_with_a_way_back(charlie, group1):
    response = charlie.get(reverse("report", args=[group1.pk]))

    assertTemplateUsed(response, "404.html")
    assertContains(response, '<meta name="viewport" content="width=device-width, initial-scale=1">', status_code=404)
    assertContains(response, '<h1 class="h3">Page not found</h1>', status_code=404, html=True)
    link = f'<a class="touch-link" href="{reverse("home")}">Back to your reports</a>'
    assertContains(response, link, status_code=404, html=True)
