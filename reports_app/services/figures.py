"""A report's figures: adding one (checked by content, stored without its metadata), replacing one (its earlier file
goes to its history), deleting and restoring one, which answers use which, and the files nothing refers to any more.

A figure's history is its FigureVersions, by report and name: every file the name had before the current one. An
upload, a scrape and a delete move the current file there, never remove it; a restore brings the last one back.
"""

from __future__ import annotations

import enum
import hashlib
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..engine import figures
from ..models import (
    Answer,
    Figure,
    FigureVersion,
    Report,
)
from .answers import ensure_open

# What a clipboard or a system calls an image that has no name of its own (a paste is `image.png`): such a name
# never replaces a figure, it gets a fresh one, `pasted-<date>-<time>.png`.
GENERIC_STEMS = frozenset({"image", "blob", "clipboard", "untitled", "pasted-graphic", "pasted-image"})


class IfExists(enum.Enum):
    """What an upload does when the report has a figure of its name."""

    ASK = "ask"  # nothing: FigureExists, so that the page can ask
    REPLACE = "replace"  # becomes the figure's new file; the old one goes to its history
    NEW_NAME = "new name"  # is stored under the name's next free variant (`plot-2.png`)


class FigureExists(Exception):
    """The report has a figure of the upload's name (`name`, as stored), and the upload did not say to replace it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class FigureNotRestorable(Exception):
    """A deleted figure cannot come back while another figure holds its name (or one differing only in case)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class FigureAdded(NamedTuple):
    figure: Figure
    created: bool  # False: the same image was there already, and nothing changed
    replaced: bool  # an earlier file of the name went to the figure's history


def is_generic_name(wanted_name: str) -> bool:
    """Whether a file name is a clipboard's or a system's placeholder rather than a name someone chose.

    >>> is_generic_name("image.png"), is_generic_name("Pasted Graphic.png"), is_generic_name("loss.png")
    (True, True, False)
    """
    stem = figures.safe_name(wanted_name, "png").removesuffix(".png")
    return stem.casefold() in GENERIC_STEMS


def figure_add(
    *, report: Report, data: bytes, wanted_name: str, user, if_exists: IfExists = IfExists.ASK
) -> FigureAdded:
    """Store an uploaded image as `reports/figures/<safe name>`.

    The bytes must be a PNG or JPEG that decodes whole (figures.FigureRejected otherwise). What is stored is the
    image without its location and camera data (figures.without_metadata: the same pixels). The same image uploaded
    again gives back the figure already there. When a figure has the name (ignoring case, as a checkout would), the
    upload does what `if_exists` says; a generic name (`image.png`, from a paste) never replaces anything.
    """
    ensure_open(report.group)
    info = figure_inspect(data)
    data = figures.without_metadata(data, info)
    digest = hashlib.sha256(data).hexdigest()
    if is_generic_name(wanted_name):
        wanted_name, if_exists = f"pasted-{timezone.localtime():%Y%m%d-%H%M%S}", IfExists.NEW_NAME
    with transaction.atomic():
        Report.objects.select_for_update().filter(pk=report.pk).first()  # one upload at a time picks a name
        existing = list(report.figures.all())
        same = next((f for f in existing if f.sha256 == digest), None)
        if same is not None:
            return FigureAdded(same, created=False, replaced=False)
        name = figures.safe_name(wanted_name, info.extension)
        clash = next((f for f in existing if figures.name_key(f.name) == figures.name_key(name)), None)
        if clash is not None and if_exists is IfExists.ASK:
            raise FigureExists(clash.name)
        if clash is not None and if_exists is IfExists.REPLACE:
            figure = figure_store(
                report=report, name=clash.name, data=data, info=info, digest=digest, user=user, figure=clash
            )
            return FigureAdded(figure, created=True, replaced=True)
        name = figures.safe_name(wanted_name, info.extension, {f.name for f in existing})
        figure = figure_store(report=report, name=name, data=data, info=info, digest=digest, user=user)
    return FigureAdded(figure, created=True, replaced=False)


def figure_inspect(data: bytes) -> figures.ImageInfo:
    """What figure bytes are, under the limits of the settings; figures.FigureRejected, saying why, otherwise."""
    return figures.inspect_image(
        data,
        max_bytes=settings.FIGURE_MAX_BYTES,
        max_pixels=settings.FIGURE_MAX_PIXELS,
        max_scans=settings.FIGURE_MAX_SCANS,
    )


def figure_store(
    *,
    report: Report,
    name: str,
    data: bytes,
    info: figures.ImageInfo,
    digest: str,
    user,
    figure: Figure | None = None,
) -> Figure:
    """Write checked image bytes as figure `name` of the report: a new figure (numbered after any history the name
    has), or the next version of `figure`, whose current file goes to its history. Call it inside
    transaction.atomic()."""
    if figure is None:
        figure = Figure(report=report, name=name, version=_next_number(report, name))
    else:
        _archive(figure, user)
        figure.version += 1
        figure.uploaded_at = timezone.now()
    figure.content_type, figure.width, figure.height = info.content_type, info.width, info.height
    figure.size, figure.sha256, figure.uploaded_by = len(data), digest, user
    figure.file.save(figure.name, ContentFile(data), save=False)
    try:
        figure.save()
    except Exception:
        figure.file.delete(save=False)
        raise
    return figure


def _next_number(report: Report, name: str) -> int:
    latest = report.figure_versions.filter(name=name).aggregate(latest=Max("number"))["latest"]
    return (latest or 0) + 1


def _archive(figure: Figure, user) -> FigureVersion:
    """The figure's current file, as a version in its history (the file itself stays where it is)."""
    return FigureVersion.objects.create(
        report_id=figure.report_id,
        name=figure.name,
        number=figure.version,
        file=figure.file.name,
        uploaded_at=figure.uploaded_at,
        archived_by=user,
        **_image_of(figure),
    )


def _image_of(stored: Figure | FigureVersion) -> dict:
    """What a figure and a version of it both say of their image file."""
    fields = ("content_type", "size", "width", "height", "sha256", "uploaded_by")
    return {name: getattr(stored, name) for name in fields}


def figure_delete(*, figure: Figure, user) -> None:
    """Take the figure out of the report; its file goes to its history, from where figure_restore brings it back."""
    ensure_open(figure.report.group)
    with transaction.atomic():
        Report.objects.select_for_update().filter(pk=figure.report_id).first()
        current = Figure.objects.filter(pk=figure.pk).first()  # as it is now: replaced or deleted meanwhile?
        if current is not None:
            _archive(current, user)
            current.delete()


def figure_restore(*, report: Report, name: str, user) -> Figure:
    """Bring back the deleted figure `name` as it was when deleted (its last version); FigureVersion.DoesNotExist when
    the name has no history, FigureNotRestorable when a figure holds the name now."""
    ensure_open(report.group)
    with transaction.atomic():
        Report.objects.select_for_update().filter(pk=report.pk).first()
        last = report.figure_versions.filter(name=name).order_by("-number")[:1].get()
        clash = next((f for f in report.figures.all() if figures.name_key(f.name) == figures.name_key(name)), None)
        if clash is not None:
            raise FigureNotRestorable(clash.name)
        figure = Figure.objects.create(
            report=report, name=name, version=last.number, file=last.file.name, **_image_of(last)
        )
        last.delete()
    return figure


def figure_history(report: Report) -> dict[str, list[FigureVersion]]:
    """Figure name -> its earlier files, newest first (one query): of current figures, and of deleted ones."""
    history: dict[str, list[FigureVersion]] = {}
    for version in report.figure_versions.select_related("archived_by").order_by("name", "-number"):
        history.setdefault(version.name, []).append(version)
    return history


def figure_orphans(*, older_than: timedelta) -> list[Path]:
    """Figure files that neither a figure nor a version in a figure's history refers to, last written more than
    `older_than` ago (younger ones may belong to a save in progress): left by an import whose worker was killed before
    it committed, or by a restore over another site."""
    root = Path(settings.MEDIA_ROOT) / "figures"
    names = [*Figure.objects.values_list("file", flat=True), *FigureVersion.objects.values_list("file", flat=True)]
    known = {Path(settings.MEDIA_ROOT) / name for name in names}
    cutoff = time.time() - older_than.total_seconds()
    files = (path for path in root.rglob("*") if path.is_file() and not path.is_symlink())
    return sorted(path for path in files if path not in known and path.stat().st_mtime < cutoff)


def figure_users(answers: Iterable[Answer]) -> dict[str, list[int]]:
    """Figure name -> the numbers of the questions whose answer shows it, in order."""
    users: dict[str, list[int]] = {}
    for answer in sorted(answers, key=lambda a: a.question.number):
        for name in figures.referenced_names(answer.text):
            users.setdefault(name, []).append(answer.question.number)
    return users
