"""The course checker's verdicts on a README, kept by (README digest, template text, checker, rules): a result
depends on nothing else, so it never goes stale; the dashboard re-checks 150 unchanged READMEs on every view."""

from __future__ import annotations

import hashlib

from ..engine import checks, parsing
from ..models import (
    Report,
    ReportTemplate,
)
from .reports import report_markdown

_checked: dict[tuple, checks.CheckResult] = {}
CHECKED_MAX = 4096


def check_markdown(text: str, template: ReportTemplate, rules: list[checks.Rule] | None = None) -> checks.CheckResult:
    """Check a README against a template the way the course checker of that template's era does."""
    rules = tuple(template.rules() if rules is None else rules)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()
    key = (digest, template.content_hash, template.checker, rules)
    result = _checked.get(key)
    if result is None:
        result = checks.check_text(
            text, list(rules), checks.CHECKERS[template.checker], lambda: parsing.parse_report(text, template.parsed())
        )
        if len(_checked) >= CHECKED_MAX:
            _checked.clear()
        _checked[key] = result
    return result


def report_check(report: Report) -> checks.CheckResult:
    return check_markdown(report_markdown(report), report.template)
