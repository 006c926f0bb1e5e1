"""The dashboard's question cells, built in Python: 150 groups x 31 questions through template tags took 250 ms."""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from reports_app.services import GroupOverview, Verdict

register = template.Library()
CELL = {v: f'<td class="verdict verdict-{v.value}" title="{{}}">{v.letter}</td>' for v in Verdict}


@register.filter
def verdict_cells(row: GroupOverview) -> SafeString:
    """`<td class="verdict verdict-words" title="(the checker's message)">W</td>` per question of the row."""
    return mark_safe("".join(CELL[v.verdict].format(escape(v.detail)) for v in row.verdicts))
