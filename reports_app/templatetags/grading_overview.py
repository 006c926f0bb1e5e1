"""The grading overview's grid, made in Python: 150 submissions x 31 questions through template tags is slow (as the
dashboard found, templatetags/dashboard.py)."""

from decimal import Decimal
from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from reports_app.engine.scoring import points_text
from reports_app.selectors.grading_overview import Cell, CellState, Row

register = template.Library()

STATE_WORDS = {
    CellState.UNGRADED: "not graded",
    CellState.GRADED: "graded",
    CellState.CHANGED: "graded, but the answer changed since",
}
REGRADE_WORDS = "a regrade request is open"


@register.filter
def points_delta(value: Decimal) -> str:
    """A rubric item's points with their sign: '+2', '-0.5'."""
    return ("+" if value >= 0 else "") + points_text(value)


@register.filter
def points(value: Decimal | None) -> str:
    """2.50 -> '2.5', 10.00 -> '10' (engine.scoring.points_text); None (not graded) -> an en dash."""
    return "\u2013" if value is None else points_text(value)


def cell_title(cell: Cell) -> str:
    """'Question 5: graded, 2.5 of 3; a regrade request is open'."""
    words = STATE_WORDS[cell.state]
    if cell.score is not None:
        words += f", {points(cell.score)} of {points(cell.max_points)}"
    elif cell.state is CellState.UNGRADED:
        words += f" ({points(cell.max_points)} points)"
    return f"Question {cell.number}: {words}" + (f"; {REGRADE_WORDS}" if cell.regrade else "")


@register.filter
def grade_cells(row: Row, course_id: int) -> SafeString:
    """A `<td>` per question of the row: its state's letter (R added for an open regrade request) in its colour,
    linking to its grading page."""
    # the grading page of question N is "<code>/N/" from the overview's own URL (urls.py: .../grading/<code>/<number>/):
    # relative, as 4,650 absolute links would make the page a third bigger
    prefix = f"{escape(row.submission.code)}/"
    return mark_safe(
        "".join(
            f'<td class="grade-cell grade-{cell.state.value}{" grade-regrade" if cell.regrade else ""}">'
            f'<a href="{prefix}{cell.number}/" title="{cell_title(cell)}">'
            f"{cell.state.letter}{'R' if cell.regrade else ''}</a></td>"
            for cell in row.cells
        )
    )


@register.filter
def submission_cell(row: Row) -> SafeString:
    """The row's header: 'Submission 7F3K' when groups are hidden, else the group, linked to its report page."""
    submission = row.submission
    label = escape(submission.label)
    if not submission.hidden:
        label = f'<a href="{reverse("report", args=[submission.group.pk])}">{label}</a>'
    graded = f'<td class="text-end graded">{row.graded}/{len(row.cells)}</td>'
    return mark_safe(f'<th scope="row" id="submission-{escape(submission.code)}">{label}</th>{graded}')
