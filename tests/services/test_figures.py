"""A figure's history (services/figures.py): a replaced or deleted file is kept as a FigureVersion, a restore brings
the last one back, a scrape that changes a figure keeps the old file too, and no file the history uses is ever taken
for an orphan. The current file alone goes into the downloads."""

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from reports_app.models import Figure, FigureVersion
from reports_app.services.figures import (
    FigureExists,
    FigureNotRestorable,
    IfExists,
    figure_add,
    figure_delete,
    figure_orphans,
    figure_restore,
    is_generic_name,
)
from reports_app.services.reports import report_for_group, report_zip
from reports_app.services.scrapes import group_scrape
from tests.conftest import png_bytes, read_fixture
from tests.helpers.repos import JAN_10, make_repo

FILLED = read_fixture("filled.md").encode()
RED, GREEN, BLUE = png_bytes(color="red"), png_bytes(color="green"), png_bytes(color="blue")


@pytest.fixture
def report(group1):
    return report_for_group(group1)


def add(report, data: bytes, name: str = "runs.png", if_exists: IfExists = IfExists.ASK, user=None):
    return figure_add(report=report, data=data, wanted_name=name, user=user, if_exists=if_exists)


def history(report, name: str = "runs.png") -> list[tuple[int, bytes]]:
    return [(v.number, Path(v.file.path).read_bytes()) for v in report.figure_versions.filter(name=name)]


def test_a_taken_name_raises_figure_exists_and_stores_nothing(report):
    add(report, RED)

    with pytest.raises(FigureExists) as raised:
        add(report, GREEN, "RUNS.png")

    assert raised.value.name == "runs.png"
    assert Figure.objects.get(report=report).read_bytes() == RED
    assert not FigureVersion.objects.exists()


def test_each_replace_moves_the_current_file_to_the_history(report):
    add(report, RED)
    first_file = Figure.objects.get(report=report).file.name

    added = add(report, GREEN, if_exists=IfExists.REPLACE)
    add(report, BLUE, if_exists=IfExists.REPLACE)

    assert (added.created, added.replaced, added.figure.version) == (True, True, 2)
    figure = Figure.objects.get(report=report)
    assert (figure.name, figure.version, figure.read_bytes()) == ("runs.png", 3, BLUE)
    assert history(report) == [(2, GREEN), (1, RED)]
    assert report.figure_versions.get(number=1).file.name == first_file


@pytest.mark.parametrize("name", ["image.png", "Image.PNG", "blob", "Pasted Graphic.png", "clipboard.jpg"])
def test_a_clipboards_name_is_generic(name):
    assert is_generic_name(name)


@pytest.mark.parametrize("name", ["runs.png", "image-of-the-loss.png", "my image.png", "figure.png"])
def test_a_chosen_name_is_not_generic(name):
    assert not is_generic_name(name)


def test_a_generic_name_never_replaces_even_when_asked(report):
    first = add(report, RED, "image.png", if_exists=IfExists.REPLACE).figure
    second = add(report, GREEN, "image.png", if_exists=IfExists.REPLACE).figure

    assert first.name.startswith("pasted-") and second.name.startswith("pasted-")
    assert first.name != second.name
    assert not FigureVersion.objects.exists()


def test_a_delete_keeps_the_file_and_a_restore_brings_it_back(report):
    figure = add(report, RED).figure
    add(report, GREEN, if_exists=IfExists.REPLACE)
    figure.refresh_from_db()

    figure_delete(figure=figure, user=None)

    assert not Figure.objects.exists()
    assert history(report) == [(2, GREEN), (1, RED)]
    restored = figure_restore(report=report, name="runs.png", user=None)
    assert (restored.version, restored.read_bytes()) == (2, GREEN)
    assert history(report) == [(1, RED)]


def test_deleting_a_stale_figure_archives_it_as_it_is_now(report):
    """A page shown before a teammate replaced the figure deletes the figure as it is now, not the version it saw."""
    stale = add(report, RED).figure
    add(report, GREEN, if_exists=IfExists.REPLACE)

    figure_delete(figure=stale, user=None)
    figure_delete(figure=stale, user=None)  # twice (a double click): nothing more happens

    assert not Figure.objects.exists()
    assert history(report) == [(2, GREEN), (1, RED)]


def test_a_restore_refuses_while_another_figure_holds_the_name(report):
    figure_delete(figure=add(report, RED).figure, user=None)
    add(report, GREEN, "Runs.png")

    with pytest.raises(FigureNotRestorable) as raised:
        figure_restore(report=report, name="runs.png", user=None)

    assert raised.value.name == "Runs.png"
    assert history(report) == [(1, RED)]


def test_restoring_a_name_without_history_raises_does_not_exist(report):
    with pytest.raises(FigureVersion.DoesNotExist):
        figure_restore(report=report, name="runs.png", user=None)


def test_orphans_leave_out_the_files_of_the_history(report, settings):
    add(report, RED)
    add(report, GREEN, if_exists=IfExists.REPLACE)
    figure_delete(figure=add(report, BLUE, "gone.png").figure, user=None)
    stray = Path(settings.MEDIA_ROOT) / "figures" / str(report.pk) / "stray.png"
    stray.write_bytes(RED)

    assert figure_orphans(older_than=timedelta(0)) == [stray]


def test_the_download_holds_the_current_file_only(report):
    add(report, RED)
    add(report, GREEN, if_exists=IfExists.REPLACE)

    with zipfile.ZipFile(io.BytesIO(report_zip(report))) as archive:
        figures = {
            name: archive.read(name) for name in archive.namelist() if "/figures/" in name and not name.endswith("/")
        }

    assert figures == {"reports/figures/runs.png": GREEN}


def test_a_scrape_that_changes_a_figure_keeps_the_uploaded_file_in_its_history(group1, report, tmp_path, settings):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]
    add(report, RED)
    files = {"reports/README.md": FILLED, "reports/figures/runs.png": GREEN}
    group1.repo_url = make_repo(tmp_path, "repo", [(JAN_10, files)])
    group1.save(update_fields=["repo_url"])

    group_scrape(group=group1, at_deadline=False)
    group_scrape(group=group1, at_deadline=False)  # the same commit again changes nothing

    figure = Figure.objects.get(report=report)
    assert (figure.version, figure.read_bytes()) == (2, GREEN)
    assert history(report) == [(1, RED)]
