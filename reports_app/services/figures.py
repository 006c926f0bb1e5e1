"""A report's figures: adding one (checked by content, stored without its metadata), deleting one, which answers use
which, and the files no figure refers to any more."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from ..engine import figures
from ..models import (
    Answer,
    Figure,
    Report,
)
from .answers import ensure_open


def figure_add(*, report: Report, data: bytes, wanted_name: str, user) -> tuple[Figure, bool]:
    """Store an uploaded image as `reports/figures/<safe name>`: (figure, created).

    The bytes must be a PNG or JPEG that decodes whole (figures.FigureRejected otherwise). What is stored is the
    image without its location and camera data (figures.without_metadata: the same pixels). The same image uploaded
    again gives back the figure already there.
    """
    ensure_open(report.group)
    info = figure_inspect(data)
    data = figures.without_metadata(data, info)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        Report.objects.select_for_update().filter(pk=report.pk).first()  # one upload at a time picks a name
        existing = {f.name: f for f in report.figures.all()}
        same = next((f for f in existing.values() if f.sha256 == digest), None)
        if same is not None:
            return same, False
        name = figures.safe_name(wanted_name, info.extension, set(existing))
        figure = figure_store(report=report, name=name, data=data, info=info, digest=digest, user=user)
    return figure, True


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
    """Write checked image bytes as figure `name` of the report: a new figure, or new bytes for `figure` (whose old
    file is removed once the transaction commits). Call it inside transaction.atomic()."""
    old_file = figure.file.name if figure is not None else None
    figure = figure or Figure(report=report, name=name)
    figure.content_type, figure.width, figure.height = info.content_type, info.width, info.height
    figure.size, figure.sha256, figure.uploaded_by = len(data), digest, user
    figure.file.save(figure.name, ContentFile(data), save=False)
    try:
        figure.save()
    except Exception:
        figure.file.delete(save=False)
        raise
    if old_file:
        storage = figure.file.storage
        transaction.on_commit(lambda: storage.delete(old_file))
    return figure


def figure_delete(*, figure: Figure) -> None:
    ensure_open(figure.report.group)
    with transaction.atomic():
        figure.delete()
        transaction.on_commit(lambda: figure.file.delete(save=False))


def figure_orphans(*, older_than: timedelta) -> list[Path]:
    """Figure files no figure refers to, last written more than `older_than` ago (younger ones may belong to a save
    in progress): left by an import whose worker was killed before it committed, or by a restore over another site."""
    root = Path(settings.MEDIA_ROOT) / "figures"
    known = {Path(settings.MEDIA_ROOT) / name for name in Figure.objects.values_list("file", flat=True)}
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
