"""The figures page and the figure views: upload (judged by content), names, storage, serving, preview, delete."""

import hashlib
import io
import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reports_app.engine.figures import FigureRejected, jpeg_layout
from reports_app.models import Figure, FigureVersion, Question
from reports_app.services.answers import answer_save
from reports_app.services.figures import IfExists, figure_add, figure_delete
from reports_app.services.reports import report_for_group
from tests.conftest import jpeg_bytes, png_bytes
from tests.helpers.images import (
    GPS,
    noise_image,
    photo_with_location,
    png_with_location,
    progressive_jpeg,
    srgb_profile,
)
from tests.helpers.pages import preview

NOT_AN_IMAGE = (
    "Only PNG and JPEG images can be uploaded, and this file is neither (we check its content, not its name)."
)
DAMAGED = "The file starts like an image but cannot be read to the end: it is damaged or incomplete."
EMPTY = "The submitted file is empty."
MEMBERS_ONLY = "Only the group's members can change its report."
REPLACE = IfExists.REPLACE


@pytest.fixture
def report(group1):
    return report_for_group(group1)


def upload(
    client,
    group,
    data: bytes,
    filename: str = "plot.png",
    name: str = "",
    content_type: str = "image/png",
    replace: str = "",
    **headers,
):
    """POST one file to the group's figures page, as the browser form does (or its script, given the headers)."""
    file = SimpleUploadedFile(filename, data, content_type=content_type)
    return client.post(reverse("figures", args=[group.pk]), {"file": file, "name": name, "replace": replace}, **headers)


def upload_json(client, group, data: bytes, filename: str = "plot.png", **fields):
    """POST one file as figures.js does for a paste or a drop."""
    return upload(client, group, data, filename, headers={"Accept": "application/json"}, **fields)


def add_figure(report, data: bytes, name: str = "plot.png") -> Figure:
    return figure_add(report=report, data=data, wanted_name=name, user=None).figure


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def shown_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def noisy_png(width: int, height: int) -> bytes:
    """A real PNG that does not compress: deterministic noise, about 3 bytes a pixel."""
    image = Image.frombytes("RGB", (width, height), random.Random(0).randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, "GIF")
    return buffer.getvalue()


def figure_url(group, name: str) -> str:
    return reverse("figure", args=[group.pk, name])


# --- upload ------------------------------------------------------------------------------------------------------


def test_uploading_a_png_stores_it_and_lists_its_snippet(alice, group1, report):
    data = png_bytes(4, 3)

    response = upload(alice, group1, data, filename="plot.png")

    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    figure = Figure.objects.get(report=report)
    assert figure.name == "plot.png"
    assert figure.content_type == "image/png"
    assert (figure.width, figure.height) == (4, 3)
    assert figure.size == len(data)
    assert figure.sha256 == hashlib.sha256(data).hexdigest()
    assert figure.uploaded_by.username == "alice"
    with figure.file.open("rb") as f:
        assert f.read() == data
    page = alice.get(reverse("figures", args=[group1.pk]))
    assertContains(page, 'value="![plot](figures/plot.png)"')
    assert shown_messages(page) == [
        "Uploaded plot.png. Paste ![plot](figures/plot.png) into an answer to show it.",
    ]


def test_a_jpeg_gets_the_jpg_extension_whatever_its_uploaded_name_says(alice, group1, report):
    data = jpeg_bytes(5, 2)

    response = upload(alice, group1, data, filename="photo.png", content_type="image/png")

    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    figure = Figure.objects.get(report=report)
    assert figure.name == "photo.jpg"
    assert figure.content_type == "image/jpeg"
    assert (figure.width, figure.height) == (5, 2)
    with figure.file.open("rb") as f:
        assert f.read() == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"x,y\n1,2\n", NOT_AN_IMAGE, id="text-file-named-png"),
        pytest.param(gif_bytes(), NOT_AN_IMAGE, id="gif"),
        pytest.param(b"", EMPTY, id="empty"),
        pytest.param(png_bytes()[:40], DAMAGED, id="truncated-png"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"garbage " * 20, DAMAGED, id="png-header-then-garbage"),
    ],
)
def test_a_file_that_is_not_a_whole_png_or_jpeg_is_refused_and_nothing_is_stored(alice, group1, report, data, message):
    response = upload(alice, group1, data, filename="plot.png")

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [message]}
    assertContains(response, message)
    assert not Figure.objects.exists()
    assert stored_files() == []


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(alice, group1, report, settings):
    settings.FIGURE_MAX_BYTES = 100_000
    data = noisy_png(300, 300)
    assert 260_000 < len(data) < 280_000  # noise does not compress: about 264 kB

    response = upload(alice, group1, data)

    assert response.status_code == 200
    message = f"The file is {len(data) / 1024:.0f} kB; a figure may be at most 98 kB."
    assert response.context["form"].errors == {"file": [message]}
    assertContains(response, message)
    assert not Figure.objects.exists()
    assert stored_files() == []


def test_an_image_with_too_many_pixels_is_refused_and_nothing_is_stored(alice, group1, report, settings):
    settings.FIGURE_MAX_PIXELS = 10

    response = upload(alice, group1, png_bytes(4, 3))

    assert response.status_code == 200
    message = (
        "The image (4 x 3) has too many pixels: figures may have at most 10 (width x height). "
        "Scale it down and upload it again."
    )
    assert response.context["form"].errors == {"file": [message]}
    assertContains(response, message)
    assert not Figure.objects.exists()
    assert stored_files() == []


def test_a_huge_but_small_file_gets_the_too_many_pixels_message(alice, group1, report, settings):
    """A 200-megapixel diagram on a white background is a 45 KB PNG: refuse it for its pixels, not as damaged."""
    settings.FIGURE_MAX_PIXELS = 40_000_000
    buffer = io.BytesIO()
    Image.new("1", (20_000, 10_000), 1).save(buffer, "PNG")

    response = upload(alice, group1, buffer.getvalue())

    assert response.status_code == 200
    message = (
        "The image (20000 x 10000) has too many pixels: figures may have at most 40,000,000 (width x height). "
        "Scale it down and upload it again."
    )
    assert response.context["form"].errors == {"file": [message]}
    assert not Figure.objects.exists()
    assert stored_files() == []


# --- decoding within bounds --------------------------------------------------------------------------------------


TOO_MANY_SCANS = (
    "The image has 5,000 scans; at most 100 are allowed (a progressive JPEG usually has about 10). "
    "Save it again as an ordinary JPEG or as PNG."
)


@pytest.mark.timeout(60)
def test_a_jpeg_in_thousands_of_scans_is_refused_before_it_is_decoded(alice, group1, report):
    """Each scan is one more pass of the decoder over every pixel: 5000 of them over 6000 x 6000 pixels would keep
    the web worker busy for minutes. Refused from the count in its header, at any size."""
    response = upload(alice, group1, progressive_jpeg(64, 64, 5000), filename="photo.jpg", content_type="image/jpeg")

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [TOO_MANY_SCANS]}
    assertContains(response, TOO_MANY_SCANS)
    assert not Figure.objects.exists()
    assert stored_files() == []


def test_a_jpeg_in_as_many_scans_as_allowed_is_taken(alice, group1, report, settings):
    settings.FIGURE_MAX_SCANS = 100

    upload(alice, group1, progressive_jpeg(64, 64, 100), filename="photo.jpg", content_type="image/jpeg")

    assert Figure.objects.get(report=report).name == "photo.jpg"


@pytest.mark.timeout(120)
def test_an_image_that_takes_longer_than_the_budget_to_decode_is_refused_and_the_site_goes_on(
    alice, group1, report, settings, short_budget
):
    """With a budget of 1 s (short_budget), a 36-megapixel JPEG in 300 scans: within every limit, but it takes
    Pillow about 7 s to decode here. The decode is stopped at 1 s; the next upload is served as usual."""
    settings.FIGURE_MAX_SCANS = 300
    slow = progressive_jpeg(6000, 6000, 300)
    assert len(slow) < settings.FIGURE_MAX_BYTES
    assert settings.FIGURE_MAX_PIXELS > 6000 * 6000

    response = upload(alice, group1, slow, filename="slow.jpg", content_type="image/jpeg")

    message = "The image could not be decoded: the decoder took longer than 1 s."
    assert response.context["form"].errors == {"file": [message]}
    assert not Figure.objects.exists()
    assert stored_files() == []
    response = upload(alice, group1, png_bytes(), filename="plot.png")
    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    assert Figure.objects.get(report=report).name == "plot.png"


def jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def test_the_scans_and_size_of_a_jpeg_are_read_from_its_markers():
    """Entropy-coded data with stuffed FF bytes (FF00) and restart markers, and a comment that holds the bytes of an
    SOS marker, are skipped as such: only the file's own SOS markers count."""
    noisy = jpeg(noise_image(320, 200), progressive=True, restart_marker_blocks=4)
    assert b"\xff\x00" in noisy and b"\xff\xd0" in noisy
    fake_scans = b"\xff\xfe\x00\x0e" + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"  # COM holding an SOS
    baseline = jpeg(noise_image(33, 17))

    assert jpeg_layout(noisy) == (320, 200, 10)  # libjpeg's progression for three components
    assert jpeg_layout(noisy[:2] + fake_scans + noisy[2:]) == (320, 200, 10)
    assert jpeg_layout(baseline) == (33, 17, 1)
    assert jpeg_layout(progressive_jpeg(64, 48, 5000)) == (64, 48, 5000)


@pytest.mark.parametrize("data", [b"\xff\xd8", b"\xff\xd8\xff\xe0\x00\x00", b"\xff\xd8\xff\xc0\x00\x11\x08"])
def test_a_jpeg_without_a_whole_frame_header_is_damaged(data):
    with pytest.raises(FigureRejected, match="damaged or incomplete"):
        jpeg_layout(data)


# --- location data -----------------------------------------------------------------------------------------------


def stored_bytes(report) -> bytes:
    figure = Figure.objects.get(report=report)
    with figure.file.open("rb") as f:
        data = f.read()
    assert (figure.size, figure.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    return data


def test_location_and_camera_data_are_removed_from_an_uploaded_photo(alice, group1, report):
    photo = photo_with_location()
    with Image.open(io.BytesIO(photo)) as original:
        assert original.getexif().get_ifd(0x8825) == GPS
        pixels = original.tobytes()

    upload(alice, group1, photo, filename="IMG_0001.jpg", content_type="image/jpeg")

    stored = stored_bytes(report)
    with Image.open(io.BytesIO(stored)) as image:
        assert dict(image.getexif()) == {}
        assert not {"exif", "xmp", "comment"} & set(image.info)
        assert image.info["icc_profile"] == srgb_profile()  # the colours stay
        assert image.tobytes() == pixels
    assert b"Exif" not in stored and b"GPS" not in stored and b"Phone" not in stored and b"at home" not in stored


def test_a_photo_keeps_its_orientation_and_nothing_else_of_its_exif(alice, group1, report):
    """A phone stores a portrait photo sideways with orientation 6 ("turn it clockwise"): without the tag it would
    show lying on its side. The tag stays, alone."""
    photo = photo_with_location(orientation=6)

    upload(alice, group1, photo, filename="IMG_0002.jpg", content_type="image/jpeg")

    with Image.open(io.BytesIO(stored_bytes(report))) as image, Image.open(io.BytesIO(photo)) as original:
        assert dict(image.getexif()) == {0x0112: 6}
        assert image.getexif().get_ifd(0x8825) == {}
        assert image.tobytes() == original.tobytes()


def test_text_and_exif_chunks_are_removed_from_an_uploaded_png(alice, group1, report):
    data = png_with_location()

    upload(alice, group1, data, filename="map.png")

    stored = stored_bytes(report)
    with Image.open(io.BytesIO(stored)) as image, Image.open(io.BytesIO(data)) as original:
        assert image.text == {}
        assert dict(image.getexif()) == {}
        assert image.tobytes() == original.tobytes()
    assert not any(chunk in stored for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"))


def test_the_same_photo_with_and_without_its_location_is_stored_once(alice, group1, report):
    upload(alice, group1, photo_with_location(), filename="a.jpg", content_type="image/jpeg")
    upload(alice, group1, stored_bytes(report), filename="b.jpg", content_type="image/jpeg")

    assert list(Figure.objects.filter(report=report).values_list("name", flat=True)) == ["a.jpg"]


def test_the_figures_page_says_location_data_is_removed(alice, group1):
    response = alice.get(reverse("figures", args=[group1.pk]))

    assertContains(response, "Location and camera data (EXIF) are removed from uploaded photos.")


# --- names -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("CON.png", "CON-figure.png"),
        ("nul.png", "nul-figure.png"),
        ("com1.PNG", "com1-figure.png"),
        ("Lpt9.backup.png", "Lpt9-backup.png"),
        ("aux .png", "aux-figure.png"),
        ("console.png", "console.png"),
    ],
)
def test_a_name_windows_keeps_for_a_device_gets_a_safe_name(alice, group1, report, filename, name):
    upload(alice, group1, png_bytes(), filename=filename)

    assert Figure.objects.get(report=report).name == name


@pytest.mark.parametrize("wanted", ["../../etc/passwd.png", "../../etc/passwd", "..\\..\\etc\\passwd.png"])
def test_a_path_as_wanted_name_becomes_a_plain_file_name(alice, group1, report, wanted):
    upload(alice, group1, png_bytes(), filename="plot.png", name=wanted)

    name = Figure.objects.get(report=report).name
    assert "/" not in name
    assert "\\" not in name
    assert name.count(".") == 1
    assert name.endswith(".png")
    assert "passwd" in name


def test_a_path_in_the_uploaded_file_name_becomes_a_plain_file_name(alice, group1, report):
    upload(alice, group1, png_bytes(), filename="../../etc/passwd.png")

    name = Figure.objects.get(report=report).name
    assert "/" not in name
    assert name.count(".") == 1
    assert name.endswith(".png")
    assert "passwd" in name


EXISTS = (
    "A figure named {name} exists. Choose below: replace it (the old one stays in its history) or upload this one "
    "under a new name, then choose the file again."
)


def figure_names(report) -> list[str]:
    return sorted(Figure.objects.filter(report=report).values_list("name", flat=True))


def test_an_image_under_a_taken_name_asks_before_anything_is_stored(alice, group1, report):
    upload(alice, group1, png_bytes(color="red"), filename="x.png")

    response = upload(alice, group1, png_bytes(color="green"), filename="other.png", name="x")

    assert response.status_code == 200
    assert response.context["form"].errors == {"replace": [EXISTS.format(name="x.png")]}
    assertContains(response, EXISTS.format(name="x.png"))
    assertContains(response, 'name="name" value="x"')  # what was typed stays
    assertContains(response, "replace it (the old file stays in its history)")
    assert figure_names(report) == ["x.png"]
    assert stored_bytes(report) == png_bytes(color="red")
    assert not FigureVersion.objects.exists()
    assert len(stored_files()) == 1


def test_keep_both_stores_the_image_under_the_next_free_name(alice, group1, report):
    upload(alice, group1, png_bytes(color="red"), filename="x.png")

    response = upload(alice, group1, png_bytes(color="green"), filename="x.png", replace="new")

    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    assert figure_names(report) == ["x-2.png", "x.png"]
    assert not FigureVersion.objects.exists()


def test_names_differing_only_in_case_count_as_the_same_name(alice, group1, report):
    """X.png and x.png would be one file in a checkout on macOS or Windows."""
    upload(alice, group1, png_bytes(color="red"), filename="X.png")

    asked = upload(alice, group1, png_bytes(color="green"), filename="x.png")
    upload(alice, group1, png_bytes(color="green"), filename="x.png", replace="new")
    upload(alice, group1, png_bytes(color="blue"), filename="x.png", replace="yes")

    assert asked.context["form"].errors == {"replace": [EXISTS.format(name="X.png")]}
    assert figure_names(report) == ["X.png", "x-2.png"]
    replaced = Figure.objects.get(report=report, name="X.png")
    assert (replaced.version, replaced.read_bytes()) == (2, png_bytes(color="blue"))


def test_the_same_image_uploaded_twice_is_stored_once(alice, group1, report):
    data = png_bytes()
    upload(alice, group1, data, filename="x.png")
    alice.get(reverse("figures", args=[group1.pk]))  # shows the "Uploaded x.png" message

    response = upload(alice, group1, data, filename="other.png", name="other")

    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    assert list(Figure.objects.filter(report=report).values_list("name", flat=True)) == ["x.png"]
    assert len(stored_files()) == 1
    page = alice.get(reverse("figures", args=[group1.pk]))
    assert shown_messages(page) == ["This image is uploaded already, as x.png."]


def test_the_stored_file_name_is_ours_not_the_uploaders(alice, group1, report):
    upload(alice, group1, png_bytes(), filename="my-secret-plot.png")

    figure = Figure.objects.get(report=report)
    assert figure.file.name.startswith(f"figures/{report.pk}/")
    assert "my-secret-plot" not in figure.file.name
    assert [p.relative_to(settings.MEDIA_ROOT).as_posix() for p in stored_files()] == [figure.file.name]


# --- serving -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "staff"])
def test_a_member_and_staff_get_the_figure_bytes_with_its_type(request, group1, report, who):
    data = jpeg_bytes()
    figure = add_figure(report, data, "photo.jpg")
    client = request.getfixturevalue(who)

    response = client.get(figure_url(group1, figure.name))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    response.close()
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_png_is_served_as_a_png(alice, group1, report):
    data = png_bytes()
    add_figure(report, data, "plot.png")

    response = alice.get(figure_url(group1, "plot.png"))

    assert b"".join(response.streaming_content) == data
    response.close()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_outsider_gets_404_for_a_figure(charlie, group1, report):
    add_figure(report, png_bytes(), "plot.png")

    assert charlie.get(figure_url(group1, "plot.png")).status_code == 404


def test_anonymous_is_sent_to_log_in_for_a_figure(client, group1, report):
    add_figure(report, png_bytes(), "plot.png")
    url = figure_url(group1, "plot.png")

    response = client.get(url)

    assertRedirects(response, f"{reverse('login')}?next={url}")


def test_a_figure_that_does_not_exist_gives_404(alice, group1, report):
    add_figure(report, png_bytes(), "plot.png")

    assert alice.get(figure_url(group1, "nothing.png")).status_code == 404


def test_a_figure_of_another_group_is_not_served_under_this_group(alice, group1, group2):
    other = report_for_group(group2)
    add_figure(other, png_bytes(), "theirs.png")
    report_for_group(group1)

    assert alice.get(figure_url(group1, "theirs.png")).status_code == 404


def test_a_figure_in_an_answer_shows_in_the_answer_preview(alice, group1, report):
    add_figure(report, png_bytes(), "plot.png")

    response = preview(alice, group1, 6, "![plot](figures/plot.png)")

    assert response.status_code == 200
    html = response.json()["html"]
    assert re.search(rf'<img [^>]*src="{re.escape(figure_url(group1, "plot.png"))}"', html), html


# --- delete ------------------------------------------------------------------------------------------------------


def test_an_unused_figure_is_deleted_by_one_post_and_the_page_offers_undo(
    alice, group1, report, django_capture_on_commit_callbacks
):
    figure = add_figure(report, png_bytes(), "plot.png")
    path = Path(figure.file.path)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(reverse("delete-figure", args=[group1.pk, "plot.png"]))

    figures_page = reverse("figures", args=[group1.pk])
    assertRedirects(response, f"{figures_page}?deleted=plot.png", fetch_redirect_response=False)
    assert not Figure.objects.filter(pk=figure.pk).exists()
    assert path.read_bytes() == png_bytes()  # kept, in its history
    page = alice.get(response["Location"])
    notice = re.search(r'<div [^>]*id="deleted-notice".*?</div>', page.content.decode(), re.S).group()
    assert "Deleted plot.png." in notice
    assert f'action="{reverse("restore-figure", args=[group1.pk, "plot.png"])}"' in notice
    assert ">Undo<" in notice


def test_undo_brings_a_deleted_figure_back_as_it_was(alice, bob, group1, report):
    figure = add_figure(report, png_bytes(), "plot.png")
    file_name = figure.file.name
    alice.post(reverse("delete-figure", args=[group1.pk, "plot.png"]))

    response = bob.post(reverse("restore-figure", args=[group1.pk, "plot.png"]))

    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    restored = Figure.objects.get(report=report)
    assert (restored.name, restored.file.name, restored.version, restored.sha256) == (
        "plot.png",
        file_name,
        1,
        figure.sha256,
    )
    assert restored.read_bytes() == png_bytes()
    assert not FigureVersion.objects.exists()
    assert shown_messages(bob.get(reverse("figures", args=[group1.pk]))) == ["Restored plot.png."]


def test_deleted_figures_are_listed_to_restore_with_their_file(alice, group1, report):
    add_figure(report, png_bytes(color="red"), "plot.png")
    alice.post(reverse("delete-figure", args=[group1.pk, "plot.png"]))

    page = alice.get(reverse("figures", args=[group1.pk]))

    assertContains(page, "Deleted figures")
    assertContains(page, f'href="{reverse("figure-version", args=[group1.pk, "plot.png", 1])}"')
    assertContains(page, f'action="{reverse("restore-figure", args=[group1.pk, "plot.png"])}"')
    response = alice.get(reverse("figure-version", args=[group1.pk, "plot.png", 1]))
    assert b"".join(response.streaming_content) == png_bytes(color="red")


def test_a_deleted_figure_is_not_restored_over_a_new_one_of_its_name(alice, group1, report):
    add_figure(report, png_bytes(color="red"), "plot.png")
    alice.post(reverse("delete-figure", args=[group1.pk, "plot.png"]))
    add_figure(report, png_bytes(color="green"), "Plot.png")

    response = alice.post(reverse("restore-figure", args=[group1.pk, "plot.png"]))

    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    assert figure_names(report) == ["Plot.png"]
    assert FigureVersion.objects.get().name == "plot.png"
    assert shown_messages(alice.get(reverse("figures", args=[group1.pk]))) == [
        "plot.png cannot be restored while a figure named Plot.png exists: delete or rename that one first."
    ]


def test_restoring_a_name_that_was_never_deleted_is_404(alice, group1, report):
    add_figure(report, png_bytes(), "plot.png")

    assert alice.post(reverse("restore-figure", args=[group1.pk, "other.png"])).status_code == 404
    assert figure_names(report) == ["plot.png"]


def test_a_used_figure_asks_for_confirmation_naming_the_question(
    alice, group1, report, django_capture_on_commit_callbacks
):
    figure = add_figure(report, png_bytes(), "plot.png")
    question = Question.objects.get(template=report.template, number=6)
    answer_save(report=report, question=question, text="See ![plot](figures/plot.png).", base_version=0, user=None)
    url = reverse("delete-figure", args=[group1.pk, "plot.png"])

    response = alice.post(url)

    assert response.status_code == 200
    assertContains(response, "plot.png is still used in question 6.")
    assert Figure.objects.filter(pk=figure.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(url, {"confirm": "yes"})

    assertRedirects(response, f"{reverse('figures', args=[group1.pk])}?deleted=plot.png", fetch_redirect_response=False)
    assert not Figure.objects.filter(pk=figure.pk).exists()
    assert [(v.name, v.file.read()) for v in FigureVersion.objects.all()] == [("plot.png", png_bytes())]


def test_the_figures_page_says_which_questions_use_a_figure(alice, group1, report):
    add_figure(report, png_bytes(), "plot.png")
    question = Question.objects.get(template=report.template, number=9)
    answer_save(report=report, question=question, text="![a](figures/plot.png)", base_version=0, user=None)

    response = alice.get(reverse("figures", args=[group1.pk]))

    assertContains(response, f'Used in <a href="{reverse("report", args=[group1.pk])}#question-9">question 9</a>.')


# --- who may change figures --------------------------------------------------------------------------------------


def test_outsider_gets_404_when_uploading(charlie, group1, report):
    response = upload(charlie, group1, png_bytes())

    assert response.status_code == 404
    assert not Figure.objects.exists()
    assert stored_files() == []


def test_outsider_gets_404_when_deleting(charlie, group1, report):
    figure = add_figure(report, png_bytes(), "plot.png")

    response = charlie.post(reverse("delete-figure", args=[group1.pk, "plot.png"]))

    assert response.status_code == 404
    assert Figure.objects.filter(pk=figure.pk).exists()


def test_outsider_gets_404_for_the_figures_page(charlie, group1):
    assert charlie.get(reverse("figures", args=[group1.pk])).status_code == 404


def test_anonymous_is_sent_to_log_in_for_the_figures_page(client, group1):
    url = reverse("figures", args=[group1.pk])

    assertRedirects(client.get(url), f"{reverse('login')}?next={url}")


def test_anonymous_is_sent_to_log_in_when_uploading(client, group1, report):
    url = reverse("figures", args=[group1.pk])

    response = upload(client, group1, png_bytes())

    assertRedirects(response, f"{reverse('login')}?next={url}")
    assert not Figure.objects.exists()
    assert stored_files() == []


def test_anonymous_is_sent_to_log_in_when_deleting(client, group1, report):
    figure = add_figure(report, png_bytes(), "plot.png")
    url = reverse("delete-figure", args=[group1.pk, "plot.png"])

    response = client.post(url)

    assertRedirects(response, f"{reverse('login')}?next={url}")
    assert Figure.objects.filter(pk=figure.pk).exists()


def test_staff_who_is_not_a_member_cannot_delete(staff, group1, report):
    figure = add_figure(report, png_bytes(), "plot.png")

    response = staff.post(reverse("delete-figure", args=[group1.pk, "plot.png"]), {"confirm": "yes"})

    assertRedirects(response, reverse("report", args=[group1.pk]), fetch_redirect_response=False)
    assert Figure.objects.filter(pk=figure.pk).exists()
    assert Path(figure.file.path).exists()


def test_staff_who_is_not_a_member_cannot_upload(staff, group1, report):
    response = upload(staff, group1, png_bytes())

    assertRedirects(response, reverse("report", args=[group1.pk]), fetch_redirect_response=False)
    assert not Figure.objects.exists()
    assert stored_files() == []
    page = staff.get(reverse("report", args=[group1.pk]))
    assert shown_messages(page) == [MEMBERS_ONLY]


def test_staff_sees_the_figures_page_without_the_upload_form(staff, group1, report):
    add_figure(report, png_bytes(), "plot.png")

    response = staff.get(reverse("figures", args=[group1.pk]))

    assertContains(response, "plot.png")
    assertNotContains(response, 'id="upload-form"')


def test_after_the_deadline_an_upload_is_refused(alice, course, group1, report):
    course.deadline = timezone.now() - timedelta(hours=1)
    course.save()

    response = upload(alice, group1, png_bytes())

    assertRedirects(response, reverse("report", args=[group1.pk]), fetch_redirect_response=False)
    assert not Figure.objects.exists()
    assert stored_files() == []
    (message,) = shown_messages(alice.get(reverse("report", args=[group1.pk])))
    assert message.startswith("The hand-in closed on ")
    assert message.endswith("; the report can no longer be changed.")


def test_after_the_deadline_a_figure_is_not_deleted(alice, course, group1, report):
    figure = add_figure(report, png_bytes(), "plot.png")
    course.deadline = timezone.now() - timedelta(hours=1)
    course.save()

    response = alice.post(reverse("delete-figure", args=[group1.pk, "plot.png"]))

    assertRedirects(response, reverse("report", args=[group1.pk]), fetch_redirect_response=False)
    assert Figure.objects.filter(pk=figure.pk).exists()
    assert Path(figure.file.path).exists()


# --- queries -----------------------------------------------------------------------------------------------------


def test_the_figures_page_query_count_does_not_grow_with_the_figures(alice, group1, report):
    add_figure(report, png_bytes(color="red"), "a.png")
    with CaptureQueriesContext(connection) as one:
        response = alice.get(reverse("figures", args=[group1.pk]))
    assert response.status_code == 200
    for color in ("green", "blue", "white", "black"):
        add_figure(report, png_bytes(color=color), f"{color}.png")
        figure_add(report=report, data=png_bytes(2, 2, color), wanted_name="a.png", user=None, if_exists=REPLACE)
    gone = add_figure(report, png_bytes(color="yellow"), "gone.png")
    figure_delete(figure=gone, user=None)

    with CaptureQueriesContext(connection) as five:
        response = alice.get(reverse("figures", args=[group1.pk]))

    assert response.status_code == 200
    assert len(response.context["figures"]) == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_the_figures_page_runs_six_queries(alice, group1, report, django_assert_num_queries):
    for color in ("red", "green", "blue"):
        add_figure(report, png_bytes(color=color), f"{color}.png")
    figure_add(report=report, data=png_bytes(2, 2), wanted_name="red.png", user=None, if_exists=REPLACE)

    # session, user, group with course, template, report and membership, figures with uploader, answers with question,
    # the figures' earlier versions
    with django_assert_num_queries(6):
        response = alice.get(reverse("figures", args=[group1.pk]))

    assert len(response.context["figures"]) == 3


# --- replacing: a new version, the old one in the history ---------------------------------------------------------


def figure_version_url(group, name: str, number: int) -> str:
    return reverse("figure-version", args=[group.pk, name, number])


def served(response) -> bytes:
    """The bytes of a file response; reading them to the end closes it (response.close() would close the database
    connection of the test too)."""
    return b"".join(response.streaming_content)


def test_replacing_a_figure_makes_a_new_version_and_keeps_the_old_file(alice, bob, group1, report):
    upload(alice, group1, png_bytes(color="red"), filename="runs.png")
    old_file = Figure.objects.get(report=report).file.name

    response = upload(bob, group1, png_bytes(6, 5, "green"), filename="runs.png", replace="yes")

    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    figure = Figure.objects.get(report=report)
    assert (figure.name, figure.version, figure.uploaded_by.username) == ("runs.png", 2, "bob")
    assert (figure.width, figure.height, figure.read_bytes()) == (6, 5, png_bytes(6, 5, "green"))
    version = FigureVersion.objects.get(report=report)
    assert (version.name, version.number, version.file.name) == ("runs.png", 1, old_file)
    assert (version.uploaded_by.username, version.archived_by.username) == ("alice", "bob")
    assert version.file.read() == png_bytes(color="red")
    page = bob.get(reverse("figures", args=[group1.pk]))
    assert shown_messages(page) == [
        "Replaced runs.png with the new image (version 2); the old one stays in its history."
    ]
    assertContains(page, "Earlier versions (1)")
    assertContains(page, f'href="{figure_version_url(group1, "runs.png", 1)}"')


def test_every_earlier_file_is_served_from_the_history(alice, group1, report):
    for color in ("red", "green", "blue"):
        upload(alice, group1, png_bytes(color=color), filename="runs.png", replace="yes")

    assert Figure.objects.get(report=report).version == 3
    assert served(alice.get(figure_url(group1, "runs.png"))) == png_bytes(color="blue")
    response = alice.get(figure_version_url(group1, "runs.png", 2))
    assert (response["Content-Type"], response["X-Content-Type-Options"]) == ("image/png", "nosniff")
    assert served(response) == png_bytes(color="green")
    assert served(alice.get(figure_version_url(group1, "runs.png", 1))) == png_bytes(color="red")
    assert alice.get(figure_version_url(group1, "runs.png", 3)).status_code == 404  # the current one is the figure


def test_the_same_image_under_its_own_name_changes_nothing_even_with_replace(alice, group1, report):
    upload(alice, group1, png_bytes(), filename="runs.png")

    response = upload(alice, group1, png_bytes(), filename="runs.png", replace="yes")

    assertRedirects(response, reverse("figures", args=[group1.pk]), fetch_redirect_response=False)
    assert Figure.objects.get(report=report).version == 1
    assert not FigureVersion.objects.exists()
    assert len(stored_files()) == 1


def test_a_figure_uploaded_again_after_a_delete_continues_the_history_of_its_name(alice, group1, report):
    upload(alice, group1, png_bytes(color="red"), filename="runs.png")
    alice.post(reverse("delete-figure", args=[group1.pk, "runs.png"]))

    upload(alice, group1, png_bytes(color="green"), filename="runs.png")

    figure = Figure.objects.get(report=report)
    assert (figure.version, figure.read_bytes()) == (2, png_bytes(color="green"))
    assert served(alice.get(figure_version_url(group1, "runs.png", 1))) == png_bytes(color="red")


def test_staff_may_look_at_an_earlier_version(staff, group1, report):
    add_figure(report, png_bytes(color="red"), "runs.png")
    figure_add(report=report, data=png_bytes(color="green"), wanted_name="runs.png", user=None, if_exists=REPLACE)

    assert served(staff.get(figure_version_url(group1, "runs.png", 1))) == png_bytes(color="red")


def test_an_earlier_version_of_another_groups_figure_is_404(alice, charlie, group1, group2, report):
    theirs = report_for_group(group2)
    add_figure(theirs, png_bytes(color="red"), "runs.png")
    figure_add(report=theirs, data=png_bytes(color="green"), wanted_name="runs.png", user=None, if_exists=REPLACE)
    add_figure(report, png_bytes(color="blue"), "runs.png")

    assert alice.get(figure_version_url(group1, "runs.png", 1)).status_code == 404  # not under her own group
    assert alice.get(figure_version_url(group2, "runs.png", 1)).status_code == 404  # nor under theirs
    assert served(charlie.get(figure_version_url(group2, "runs.png", 1))) == png_bytes(color="red")


def test_anonymous_is_sent_to_log_in_for_an_earlier_version(client, group1, report):
    add_figure(report, png_bytes(color="red"), "runs.png")
    figure_add(report=report, data=png_bytes(color="green"), wanted_name="runs.png", user=None, if_exists=REPLACE)
    url = figure_version_url(group1, "runs.png", 1)

    assertRedirects(client.get(url), f"{reverse('login')}?next={url}")


def test_outsider_cannot_restore_a_deleted_figure(charlie, group1, report):
    figure_delete(figure=add_figure(report, png_bytes(), "runs.png"), user=None)

    assert charlie.post(reverse("restore-figure", args=[group1.pk, "runs.png"])).status_code == 404
    assert not Figure.objects.exists()


def test_after_the_deadline_a_deleted_figure_is_not_restored(alice, course, group1, report):
    figure_delete(figure=add_figure(report, png_bytes(), "runs.png"), user=None)
    course.deadline = timezone.now() - timedelta(hours=1)
    course.save()

    response = alice.post(reverse("restore-figure", args=[group1.pk, "runs.png"]))

    assertRedirects(response, reverse("report", args=[group1.pk]), fetch_redirect_response=False)
    assert not Figure.objects.exists()


# --- JSON upload (paste and drop in the editor) -------------------------------------------------------------------


def test_a_json_upload_answers_the_snippet_to_insert(alice, group1, report):
    response = upload_json(alice, group1, png_bytes(), filename="loss curve.png")

    assert response.status_code == 200
    assert response.json() == {
        "name": "loss-curve.png",
        "snippet": "![loss-curve](figures/loss-curve.png)",
        "url": figure_url(group1, "loss-curve.png"),
        "created": True,
        "replaced": False,
        "message": "Uploaded loss-curve.png. Paste ![loss-curve](figures/loss-curve.png) into an answer to show it.",
    }
    assert Figure.objects.get(report=report).read_bytes() == png_bytes()


def test_a_json_upload_under_a_taken_name_is_409_and_stores_nothing(alice, group1, report):
    upload_json(alice, group1, png_bytes(color="red"), filename="runs.png")

    response = upload_json(alice, group1, png_bytes(color="green"), filename="runs.png")

    assert response.status_code == 409
    assert response.json() == {
        "error": "A figure named runs.png exists: replace it (the old one stays in its history) or upload under a new "
        "name.",
        "exists": "runs.png",
    }
    assert Figure.objects.get(report=report).read_bytes() == png_bytes(color="red")
    assert not FigureVersion.objects.exists()


@pytest.mark.parametrize(
    ("replace", "names", "replaced", "version"),
    [("yes", ["runs.png"], True, 2), ("new", ["runs-2.png", "runs.png"], False, 1)],
)
def test_a_json_upload_replaces_or_keeps_both_as_asked(alice, group1, report, replace, names, replaced, version):
    upload_json(alice, group1, png_bytes(color="red"), filename="runs.png")

    response = upload_json(alice, group1, png_bytes(color="green"), filename="runs.png", replace=replace)

    assert response.status_code == 200
    answer = response.json()
    assert (answer["replaced"], answer["created"]) == (replaced, True)
    assert figure_names(report) == names
    assert Figure.objects.get(report=report, name=answer["name"]).version == version


def test_a_json_upload_of_an_image_already_there_gives_its_snippet(alice, group1, report):
    upload_json(alice, group1, png_bytes(), filename="runs.png")

    answer = upload_json(alice, group1, png_bytes(), filename="image.png").json()

    assert (answer["name"], answer["created"], answer["replaced"]) == ("runs.png", False, False)
    assert answer["message"] == "This image is uploaded already, as runs.png."


def test_a_pasted_image_never_replaces_a_figure_and_gets_a_fresh_name(alice, group1, report):
    """A clipboard calls every image `image.png`: a second paste must not ask, nor replace the first."""
    first = upload_json(alice, group1, png_bytes(color="red"), filename="image.png").json()
    second = upload_json(alice, group1, png_bytes(color="green"), filename="image.png", replace="yes").json()

    assert re.fullmatch(r"pasted-\d{8}-\d{6}\.png", first["name"]), first
    assert re.fullmatch(r"pasted-\d{8}-\d{6}(-2)?\.png", second["name"]), second
    assert first["name"] != second["name"]
    assert not second["replaced"]
    assert {f.name: f.read_bytes() for f in Figure.objects.filter(report=report)} == {
        first["name"]: png_bytes(color="red"),
        second["name"]: png_bytes(color="green"),
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"x,y\n1,2\n", NOT_AN_IMAGE, id="text"),
        pytest.param(png_bytes()[:40], DAMAGED, id="truncated"),
        pytest.param(b"", EMPTY, id="empty"),
    ],
)
def test_a_refused_json_upload_is_400_with_why(alice, group1, report, data, message):
    response = upload_json(alice, group1, data, filename="plot.png")

    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert not Figure.objects.exists()
    assert stored_files() == []


def test_a_json_upload_by_staff_is_403_with_why(staff, group1, report):
    response = upload_json(staff, group1, png_bytes())

    assert response.status_code == 403
    assert response.json() == {"error": MEMBERS_ONLY}
    assert not Figure.objects.exists()


def test_a_json_upload_after_the_deadline_is_403_with_why(alice, course, group1, report):
    course.deadline = timezone.now() - timedelta(hours=1)
    course.save()

    response = upload_json(alice, group1, png_bytes())

    assert response.status_code == 403
    assert response.json()["error"].startswith("The hand-in closed on ")
    assert not Figure.objects.exists()


def test_a_json_upload_without_a_session_is_401_with_where_to_log_in(client, group1, report):
    response = upload_json(client, group1, png_bytes())

    assert response.status_code == 401
    assert response.json()["login"].startswith(reverse("login"))
    assert not Figure.objects.exists()


def test_an_outsiders_json_upload_is_404(charlie, group1, report):
    assert upload_json(charlie, group1, png_bytes()).status_code == 404
    assert not Figure.objects.exists()


# --- the figures page for scripts ----------------------------------------------------------------------------------


def test_the_figures_page_has_a_paste_area_and_insert_buttons_for_members(alice, group1, report):
    add_figure(report, png_bytes(), "runs.png")

    page = alice.get(reverse("figures", args=[group1.pk]))

    assertContains(page, f'data-figure-upload="{reverse("figures", args=[group1.pk])}"')
    assertContains(page, 'data-figure-insert="![runs](figures/runs.png)" aria-label="Insert figure runs.png"')
    assertContains(page, "reports_app/figures.js")


def test_staff_get_neither_paste_area_nor_insert_buttons(staff, group1, report):
    add_figure(report, png_bytes(), "runs.png")

    page = staff.get(reverse("figures", args=[group1.pk]))

    assertNotContains(page, "data-figure-upload")
    assertNotContains(page, "data-figure-insert")
