"""What the report page shows, read with a fixed number of queries whatever the number of questions."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine import checks
from ..models import (
    Answer,
    ChecklistItem,
    Figure,
    Question,
    Report,
)
from ..services.checking import check_markdown


@dataclass
class QuestionRow:
    question: Question
    answer: Answer | None
    result: checks.QuestionResult

    @property
    def is_placeholder(self) -> bool:
        """The answer is still the template's `--- question N fill here ---` text (which the course counts as words)."""
        return (
            self.answer is not None
            and bool(self.question.placeholder)
            and (self.answer.text.strip() == self.question.placeholder.strip())
        )

    @property
    def is_empty(self) -> bool:
        return self.answer is None or not self.answer.text.strip()


@dataclass
class ReportPage:
    report: Report
    rows: list[QuestionRow]
    result: checks.CheckResult
    checklist: list[tuple[str, list[tuple[ChecklistItem, bool]]]]  # (week, [(item, checked)])
    figures: list[Figure] = field(default_factory=list)

    @property
    def sections(self) -> list[tuple[str, list[QuestionRow]]]:
        grouped: list[tuple[str, list[QuestionRow]]] = []
        for row in self.rows:
            title = row.question.section.title if row.question.section else ""
            if not grouped or grouped[-1][0] != title:
                grouped.append((title, []))
            grouped[-1][1].append(row)
        return grouped


def report_page(report: Report) -> ReportPage:
    """Questions, answers, verdicts, checklist and figures of a report, in five queries."""
    questions = list(report.template.questions.select_related("section"))  # 1
    answers = {
        a.question_id: a
        for a in report.answers.on_own_template().select_related("updated_by")  # 2
    }
    items = list(report.template.checklist.all())  # 3
    marks = {m.item_id: m for m in report.marks.on_own_template()}  # 4
    figure_list = list(report.figures.all())  # 5
    readme = report.readme(
        {q.number: answers[q.id].text for q in questions if q.id in answers},
        {i.position: marks[i.id].mark for i in items if i.id in marks},
    )
    result = check_markdown(readme, report.template, [q.rule() for q in questions])
    by_number = {r.number: r for r in result.questions}
    rows = [QuestionRow(q, answers.get(q.id), by_number[q.number]) for q in questions]
    checklist: list[tuple[str, list[tuple[ChecklistItem, bool]]]] = []
    for item in items:
        if not checklist or checklist[-1][0] != item.week:
            checklist.append((item.week, []))
        checklist[-1][1].append((item, item.id in marks and marks[item.id].checked))
    return ReportPage(report, rows, result, checklist, figure_list)
