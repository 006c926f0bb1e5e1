"""Figure files: what an upload must be (PNG or JPEG, judged by its bytes), the name it gets, which answers use it.

Pure Python plus Pillow; no Django.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from .rendering import figure_name, image_type

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}
PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
MAX_NAME_LENGTH = 60
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_REFERENCE = re.compile(r"(?:\./)?(?:reports/)?figures/[^\s)\"'<>]+")


class FigureRejected(ValueError):
    """The upload is not a figure we keep; the message says why, in plain words."""


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def human_size(size: int) -> str:
    """
    >>> human_size(300_000), human_size(5 * 1024 * 1024)
    ('293 kB', '5.0 MB')
    """
    return f"{size / 1024:.0f} kB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def inspect_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageInfo:
    """The image's type and size, after decoding it whole; FigureRejected, with the reason, for anything else."""
    if not data:
        raise FigureRejected("The file is empty.")
    if len(data) > max_bytes:
        raise FigureRejected(f"The file is {human_size(len(data))}; a figure may be at most {human_size(max_bytes)}.")
    content_type = image_type(data)
    if content_type is None:
        raise FigureRejected(
            "Only PNG and JPEG images can be uploaded, and this file is neither (we check its content, not its name)."
        )
    max_pixels = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)  # Pillow refuses more anyway
    too_big = (
        "The image {size}has too many pixels: figures may have at most {max_pixels:,} (width x height). "
        "Scale it down and upload it again."
    )
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[content_type]]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise FigureRejected(too_big.format(size=f"({width} x {height}) ", max_pixels=max_pixels))
            image.load()  # decode every pixel: a truncated or corrupt file fails here, not in a grader's browser
    except FigureRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own, higher limit
        raise FigureRejected(too_big.format(size="", max_pixels=max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise FigureRejected(
            "The file starts like an image but cannot be read to the end: it is damaged or incomplete."
        ) from None
    return ImageInfo(content_type, width, height)


def safe_name(wanted: str, extension: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    r"""A file name for reports/figures/: letters, digits, - and _, the extension of the content, not yet `taken`.

    >>> safe_name("My plot (final).PNG", "png")
    'My-plot-final.png'
    >>> safe_name("..\\../etc/passwd.png", "jpg", {"passwd.jpg"})
    'passwd-2.jpg'
    """
    base = wanted.replace("\\", "/").rsplit("/", 1)[-1]  # a path is not a name: keep its last part
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = _UNSAFE.sub("-", stem).strip("-_")[:MAX_NAME_LENGTH] or "figure"
    taken = {t.lower() for t in taken}  # x.png and X.png would clash in a checkout on macOS or Windows
    name, counter = f"{stem}.{extension}", 1
    while name.lower() in taken:
        counter += 1
        name = f"{stem}-{counter}.{extension}"
    return name


def referenced_names(markdown_text: str) -> set[str]:
    """The figure file names a piece of markdown points at (`figures/x.png`, `./figures/x.png`, in ![]() or HTML).

    >>> sorted(referenced_names('![a](figures/a.png) <img src="./figures/b.jpg"> figures/c.png'))
    ['a.png', 'b.jpg', 'c.png']
    """
    return {name for match in _REFERENCE.findall(markdown_text) if (name := figure_name(match))}
