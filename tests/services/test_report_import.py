"""services.reports.report_import keeps what it stores within its columns (PostgreSQL refuses longer text: 500)."""

from io import StringIO

from django.core.management import call_command

from reports_app.models import AnswerRevision, Report
from tests.conftest import read_fixture


def test_a_long_file_name_is_cut_to_the_length_of_the_label_columns(tmp_path, demo_template):
    name = "report-" + "r" * 240 + ".md"  # 250 characters, a file name Linux allows
    path = tmp_path / name
    path.write_text(read_fixture("filled.md"), encoding="utf-8")

    call_command("import_report", str(path), "--course", "C1", "--group", "1", stdout=StringIO(), stderr=StringIO())

    label = f"import: {name}"[:200]
    assert Report.objects.get().source_label == label
    assert set(AnswerRevision.objects.values_list("source", flat=True)) == {label}
