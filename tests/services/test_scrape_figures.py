"""The figures of a scrape (group_scrape against real git repos made in the test): each is bounded and
validated as an upload is, but kept byte for byte; a report gets at most SCRAPE_MAX_FIGURES of them."""

import pytest

from reports_app.models import Figure, Group
from reports_app.services.figures import figure_add
from reports_app.services.reports import report_for_group
from reports_app.services.scrapes import course_scrape, group_scrape
from tests.conftest import png_bytes, read_fixture
from tests.helpers.images import photo_with_location, progressive_jpeg
from tests.helpers.repos import JAN_10, JAN_20, make_repo

FILLED = read_fixture("filled.md").encode()
TOO_MANY_SCANS = (
    "The image has 5,000 scans; at most 100 are allowed (a progressive JPEG usually has about 10). "
    "Save it again as an ordinary JPEG or as PNG."
)


@pytest.fixture(autouse=True)
def _file_urls(settings, tmp_path):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]


def scrape(group: Group, tmp_path, commits: list[tuple[str, dict]], name: str = "repo"):
    group.repo_url = make_repo(tmp_path, name, commits)
    group.save(update_fields=["repo_url"])
    return group_scrape(group=group, at_deadline=False)


def stored(group: Group) -> dict[str, bytes]:
    return {f.name: f.file.read() for f in Figure.objects.filter(report__group=group).order_by("name")}


@pytest.mark.timeout(60)
def test_a_jpeg_in_thousands_of_scans_is_skipped_and_the_rest_imported(group1, tmp_path):
    files = {"reports/README.md": FILLED, "reports/figures/slow.jpg": progressive_jpeg(64, 64, 5000)}
    files["reports/figures/plot.png"] = png_bytes()

    result = scrape(group1, tmp_path, [(JAN_10, files)])

    assert result.status == "ok"
    assert result.skipped == [["reports/figures/slow.jpg", TOO_MANY_SCANS]]
    assert stored(group1) == {"plot.png": png_bytes()}


@pytest.mark.timeout(120)
def test_a_figure_that_takes_longer_than_the_budget_to_decode_is_skipped(group1, tmp_path, settings, short_budget):
    """A 36-megapixel JPEG in 300 scans takes Pillow about 7 s; the budget is 1 s (see test_figures)."""
    settings.FIGURE_MAX_SCANS = 300
    files = {"reports/README.md": FILLED, "reports/figures/slow.jpg": progressive_jpeg(6000, 6000, 300)}
    files["reports/figures/plot.png"] = png_bytes()

    result = scrape(group1, tmp_path, [(JAN_10, files)])

    message = "The image could not be decoded: the decoder took longer than 1 s."
    assert result.skipped == [["reports/figures/slow.jpg", message]]
    assert stored(group1) == {"plot.png": png_bytes()}


def test_a_course_scrape_decodes_a_figure_stored_already_no_more(group1, tmp_path, settings):
    """Each figure is decoded once, when first stored: a later scrape that brings the same bytes (a new commit of the
    README, the figure unchanged) takes them as checked. The limit lowered in between shows whether it decoded them
    again: a decode would now refuse the figure."""
    figure = {"reports/figures/plot.png": png_bytes(width=20, height=20)}
    scrape(group1, tmp_path, [(JAN_10, {"reports/README.md": FILLED, **figure})])
    settings.FIGURE_MAX_PIXELS = 100
    readme = FILLED.replace(b"fill here", b"filled here", 1)
    group1.repo_url = make_repo(tmp_path, "next", [(JAN_20, {"reports/README.md": readme, **figure})])
    group1.save(update_fields=["repo_url"])

    (again,) = course_scrape(groups=Group.objects.select_related("course"), at_deadline=False, workers=1)

    assert (again.status, again.unchanged, again.skipped) == ("ok", False, [])
    assert stored(group1) == {"plot.png": png_bytes(width=20, height=20)}
    renamed = {"reports/figures/renamed.png": png_bytes(width=20, height=20)}  # the same bytes under a new name
    group1.repo_url = make_repo(tmp_path, "renamed", [(JAN_20, {"reports/README.md": FILLED, **renamed})])
    group1.save(update_fields=["repo_url"])

    (third,) = course_scrape(groups=Group.objects.select_related("course"), at_deadline=False, workers=1)

    # not stored under this name yet: decoded, and the lowered limit refuses it
    refused = "The image (20 x 20) has too many pixels: figures may have at most 100 (width x height). Scale it down"
    assert third.skipped == [["reports/figures/renamed.png", f"{refused} and upload it again."]]
    assert list(stored(group1)) == ["plot.png"]


def test_a_scraped_photo_is_kept_byte_for_byte_with_its_metadata(group1, tmp_path):
    """The hand-in is what the group committed: its own files, as they are."""
    photo = photo_with_location()

    scrape(group1, tmp_path, [(JAN_10, {"reports/README.md": FILLED, "reports/figures/photo.jpg": photo})])

    assert stored(group1) == {"photo.jpg": photo}


def test_a_report_gets_at_most_max_figures_from_scrapes_however_many_commits_bring(group1, tmp_path, settings):
    """Figures gone from the repo stay, so commits of new figures each would add up without the cap."""
    settings.SCRAPE_MAX_FIGURES = 2
    colors = {"a": "red", "b": "green", "c": "blue"}
    first = {f"reports/figures/{name}.png": png_bytes(color=color) for name, color in colors.items()}

    one = scrape(group1, tmp_path, [(JAN_10, {"reports/README.md": FILLED, **first})])

    assert one.skipped == [["reports/figures/c.png", "more than 2 figures; only the first 2 by name are read"]]
    assert stored(group1) == {"a.png": png_bytes(color="red"), "b.png": png_bytes(color="green")}

    second = {"reports/figures/a.png": png_bytes(color="black"), "reports/figures/d.png": png_bytes(color="white")}
    two = scrape(group1, tmp_path, [(JAN_20, {"reports/README.md": FILLED, **second})], name="next")

    full = "the report has 2 figures already, the most a scrape fills it up to (setting SCRAPE_MAX_FIGURES)"
    assert two.skipped == [["reports/figures/d.png", full]]
    assert stored(group1) == {"a.png": png_bytes(color="black"), "b.png": png_bytes(color="green")}


def test_a_scraped_figure_whose_name_differs_only_in_case_from_an_uploaded_one_is_skipped(group1, tmp_path):
    report = report_for_group(group1)
    figure_add(report=report, data=png_bytes(color="red"), wanted_name="plot.png", user=None)

    result = scrape(
        group1, tmp_path, [(JAN_10, {"reports/README.md": FILLED, "reports/figures/Plot.png": png_bytes()})]
    )

    clash = "the report has a figure plot.png already, a name that differs only in upper and lower case"
    assert result.skipped == [["reports/figures/Plot.png", clash]]
    assert stored(group1) == {"plot.png": png_bytes(color="red")}
