"""The dashboard as the staff hub, in chromium: a scrape of real local git repos started from the dashboard (after
its panel says what it reads), followed live in the jobs list until it is done, then an export downloaded from it."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from reports_app.models import Group, Job
from tests.helpers.pages import log_in_as
from tests.helpers.repos import FILLED, JAN_10, make_repo


def run_worker() -> None:
    """What `manage.py db_worker` does in production, here until the queue is empty (as tests/services/test_job.py)."""
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


@pytest.mark.timeout(120)
def test_staff_scrape_every_repo_and_download_an_export_from_the_dashboard(
    page, live_server, course, instructor, settings, tmp_path
):
    settings.SCRAPE_ALLOWED_URLS = [f"file://{tmp_path}/"]
    course.deadline = timezone.now() + timedelta(days=7)
    course.save()
    for number in (1, 2):
        repo = make_repo(tmp_path, f"g{number}", [(JAN_10, {"reports/README.md": FILLED})])
        Group.objects.create(course=course, number=number, repo_url=repo)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in_as(page, live_server, "instructor")
    page.goto(f"{live_server.url}/courses/{course.pk}/dashboard/")

    scrape = page.get_by_role("button", name="Scrape 2 repos at the branch head")
    expect(scrape).to_be_hidden()  # behind the panel that says what a scrape reads
    page.get_by_text("Scrape the repos…").click()
    expect(page.get_by_text("each of the 2 groups with a repo URL")).to_be_visible()
    scrape.click()

    expect(page.get_by_role("alert")).to_contain_text("Started: scrape at the branch head.")
    job = Job.objects.get()
    row = page.locator(f"#job-row-{job.pk}")
    expect(row).to_contain_text("queued")
    run_worker()
    expect(row.locator(".job-state")).to_have_text("done")  # followed live: the page was not reloaded
    expect(row).to_contain_text("2/2")
    expect(row).to_contain_text("2 groups: 2 ok")
    expect(page.get_by_text("A scrape has finished since this page was loaded")).to_be_visible()
    page.get_by_role("link", name="reload the page").click()
    expect(page.locator("#group-1 td.status")).to_have_text("ok")

    page.get_by_role("button", name="Export for grading").click()
    export = Job.objects.latest("id")
    row = page.locator(f"#job-row-{export.pk}")
    expect(row).to_contain_text("queued")
    run_worker()
    download_button = row.get_by_role("link", name="Download the zip")
    expect(download_button).to_be_visible()
    expect(
        page.get_by_text("A scrape has finished since this page was loaded")
    ).to_be_hidden()  # an export changes no group
    with page.expect_download() as download:
        download_button.click()
    names = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())).namelist()
    assert "index.html" in names and "grades.csv" in names
    assert any(name.endswith("/README.md") for name in names)
