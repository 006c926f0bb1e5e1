"""`{{ user|person }}`: how templates name a person (engine.people.person_name), on pages and in mails alike."""

from django import template

from reports_app.engine.people import SOMEONE, person_name

register = template.Library()


@register.filter
def person(user, nobody: str = SOMEONE) -> str:
    """The person's full name, else their user name; `nobody` ("someone" unless given) for no account."""
    return person_name(user, nobody)
