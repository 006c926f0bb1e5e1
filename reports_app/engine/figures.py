"""Figure files: what an upload must be (PNG or JPEG, judged by its bytes), the name it gets, which answers use it.

Pure Python plus Pillow; no Django. An image is judged in two steps: its header here (type, width x height, and for a
JPEG how many scans it is saved in), then a decode of every pixel in a worker process under the budget of `bounded`,
since a few hundred kilobytes built for it keep Pillow busy for minutes.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from PIL import Image, UnidentifiedImageError

from . import bounded

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}
PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
MAX_NAME_LENGTH = 60
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_REFERENCE = re.compile(r"(?:\./)?(?:reports/)?figures/[^\s)\"'<>]+")
# Device names Windows reserves whatever the extension (`nul.tar.gz` too): a repo holding one cannot be checked out.
_RESERVED = re.compile(r"(?:CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])\Z", re.IGNORECASE)

EMPTY = "The file is empty."
TOO_LARGE = "The file is {size}; a figure may be at most {max_size}."
NOT_AN_IMAGE = (
    "Only PNG and JPEG images can be uploaded, and this file is neither (we check its content, not its name)."
)
DAMAGED = "The file starts like an image but cannot be read to the end: it is damaged or incomplete."
TOO_MANY_PIXELS = (
    "The image {size}has too many pixels: figures may have at most {max_pixels:,} (width x height). "
    "Scale it down and upload it again."
)
TOO_MANY_SCANS = (
    "The image has {scans:,} scans; at most {max_scans:,} are allowed (a progressive JPEG usually has about 10). "
    "Save it again as an ordinary JPEG or as PNG."
)
NOT_DECODED = "The image could not be decoded: the decoder {why}."


IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def image_type(data: bytes) -> str | None:
    """The MIME type of PNG or JPEG bytes, judged by content; None for anything else."""
    return next((mime for magic, mime in IMAGE_TYPES.items() if data.startswith(magic)), None)


def figure_name(src: str) -> str | None:
    """`figures/x.png`, `./figures/x.png`, `reports/figures/x.png` -> `x.png`; None for anything else."""
    path = src.split("?", 1)[0].split("#", 1)[0].removeprefix("./")
    for prefix in ("reports/figures/", "figures/"):
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            return path[len(prefix) :]
    return None


class FigureRejected(ValueError):
    """The upload is not a figure we keep; the message says why, in plain words."""


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int
    orientation: int = 1  # EXIF orientation of a JPEG (1: as stored; 6: turn 90 degrees clockwise to show...)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def human_size(size: int) -> str:
    """
    >>> human_size(300_000), human_size(5 * 1024 * 1024)
    ('293 kB', '5.0 MB')
    """
    return f"{size / 1024:.0f} kB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def inspect_image(data: bytes, *, max_bytes: int, max_pixels: int, max_scans: int) -> ImageInfo:
    """The image's type, size and orientation once it decoded whole; FigureRejected, with the reason, for anything else.

    Its header is read first: too many pixels, or a JPEG in more than `max_scans` scans (each scan is one more pass of
    the decoder over every pixel), is refused before anything is decoded. The decode runs under the `bounded` budget.
    """
    if not data:
        raise FigureRejected(EMPTY)
    if len(data) > max_bytes:
        raise FigureRejected(TOO_LARGE.format(size=human_size(len(data)), max_size=human_size(max_bytes)))
    content_type = image_type(data)
    if content_type is None:
        raise FigureRejected(NOT_AN_IMAGE)
    max_pixels = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)  # Pillow refuses more anyway
    try:
        return bounded.run(decode_image, data, content_type, max_pixels, max_scans, expected=(FigureRejected,))
    except bounded.OverBudget as error:
        raise FigureRejected(NOT_DECODED.format(why=error)) from None
    except bounded.Failed as error:
        raise FigureRejected(NOT_DECODED.format(why=f"failed ({error.kind})")) from None


def decode_image(data: bytes, content_type: str, max_pixels: int, max_scans: int) -> ImageInfo:
    """Read the header, then decode every pixel (run it through `bounded`): what the image is, or FigureRejected.

    Too many pixels or scans are refused from the header, before anything is decoded; a truncated or corrupt file
    fails in the decode, not in a grader's browser.
    """
    if content_type == "image/png":
        (width, height), scans = png_size(data), 1
    else:
        width, height, scans = jpeg_layout(data)
    if width * height > max_pixels:
        raise FigureRejected(TOO_MANY_PIXELS.format(size=f"({width} x {height}) ", max_pixels=max_pixels))
    if scans > max_scans:
        raise FigureRejected(TOO_MANY_SCANS.format(scans=scans, max_scans=max_scans))
    try:
        with Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[content_type]]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise FigureRejected(TOO_MANY_PIXELS.format(size=f"({width} x {height}) ", max_pixels=max_pixels))
            image.load()
            orientation = _orientation(image) if content_type == "image/jpeg" else 1
    except FigureRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own, higher limit
        raise FigureRejected(TOO_MANY_PIXELS.format(size="", max_pixels=max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise FigureRejected(DAMAGED) from None
    return ImageInfo(content_type, width, height, orientation)


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block says nothing; it is dropped with the rest anyway
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk, which must come first; FigureRejected when it does not."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise FigureRejected(DAMAGED)
    return struct.unpack(">II", data[16:24])


# JPEG markers (ITU T.81 table B.1). SOF0-15 but DHT, JPG and DAC start a frame and give its size.
_SOI, _EOI, _SOS, _COM = 0xD8, 0xD9, 0xDA, 0xFE
_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = {0x01}  # TEM; RST0-7 (D0-D7) occur only inside entropy-coded data, where they are skipped
# A marker is FF then anything but 00 (FF00 is a stuffed FF data byte), D0-D7 (restart markers between the coded
# data of one scan) and FF (a fill byte: the marker is the last FF of a run).
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


class JpegLayout(NamedTuple):
    width: int
    height: int
    scans: int


def jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of each segment of a JPEG after SOI, up to and including EOI, in one linear pass.

    A segment runs from its marker to the next marker: past its declared length (so that an EXIF thumbnail's markers
    are never taken for the file's own), then over any entropy-coded data, which follows an SOS. Bytes after EOI (a
    second picture, a video) are not part of it. FigureRejected when the file does not start like a JPEG.
    """
    if not data.startswith(b"\xff\xd8"):
        raise FigureRejected(DAMAGED)
    found = _MARKER.search(data, 2)
    while found:
        start = found.start()
        marker = data[start + 1]
        if marker == _EOI:
            yield marker, start, start + 2
            return
        if marker in _STANDALONE:
            body_end = start + 2
        else:
            length = int.from_bytes(data[start + 2 : start + 4], "big")
            if length < 2:
                raise FigureRejected(DAMAGED)
            body_end = start + 2 + length
        found = _MARKER.search(data, body_end)
        yield marker, start, found.start() if found else len(data)


def jpeg_layout(data: bytes) -> JpegLayout:
    """The frame size (from the SOF header) and the number of scans (SOS markers) of a JPEG, without decoding it.

    >>> from PIL import Image; buffer = io.BytesIO(); Image.new("L", (40, 30)).save(buffer, "JPEG", progressive=True)
    >>> jpeg_layout(buffer.getvalue())
    JpegLayout(width=40, height=30, scans=6)
    """
    size, scans = None, 0
    for marker, start, _ in jpeg_segments(data):
        if marker == _SOS:
            scans += 1
        elif marker in _SOF:
            if size is not None or len(data) < start + 9:  # libjpeg refuses a second frame, and so do we
                raise FigureRejected(DAMAGED)
            height, width = struct.unpack(">HH", data[start + 5 : start + 9])
            size = (width, height)
    if size is None:
        raise FigureRejected(DAMAGED)
    return JpegLayout(*size, scans)


# What stays of a JPEG's metadata: the colour profile (APP2 ICC_PROFILE) and Adobe's colour transform (APP14), both
# needed for the right colours; APP0 (JFIF) holds no more than the pixel density. The rest of APP1-APP15 (EXIF with
# GPS and the camera, XMP, IPTC, maker notes...) and comments go.
_JPEG_KEPT = {0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
_PNG_METADATA = {b"tEXt", b"zTXt", b"iTXt", b"eXIf"}
_ORIENTATION_TAG = 0x0112


def without_metadata(data: bytes, info: ImageInfo) -> bytes:
    """The image without its location and camera data, decoding to exactly the same pixels: the bytes are cut, never
    re-encoded. A JPEG loses its APP1-APP15 segments but the colour ones (a single EXIF orientation tag is written back
    when the photo had one, so that it still shows upright) and its comments; a PNG its text and EXIF chunks.
    Anything after the image's end goes too. `data` must have passed `inspect_image` (`info` is what it returned).
    """
    if info.content_type == "image/png":
        return _png_without_metadata(data)
    return _jpeg_without_metadata(data, info.orientation)


def _jpeg_without_metadata(data: bytes, orientation: int) -> bytes:
    out, exif = [data[:2]], _orientation_exif(orientation) if orientation != 1 else b""
    for marker, start, end in jpeg_segments(data):
        if exif and marker != 0xE0:  # after JFIF's APP0, which must come first
            out.append(exif)
            exif = b""
        if 0xE1 <= marker <= 0xEF or marker == _COM:
            kept = _JPEG_KEPT.get(marker)
            if kept is None or not data.startswith(kept, start + 4):
                continue
        out.append(data[start:end])
    return b"".join(out)


def _orientation_exif(orientation: int) -> bytes:
    """An APP1 EXIF segment holding one tag, the orientation (TIFF header, one IFD of one SHORT entry, no next IFD)."""
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", _ORIENTATION_TAG, 3, 1, orientation, 0)
    body = b"Exif\x00\x00" + tiff + b"\x00\x00\x00\x00"
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _png_without_metadata(data: bytes) -> bytes:
    out, at = [data[:8]], 8
    while at + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = at + 12 + length  # length, type, data, CRC
        if kind not in _PNG_METADATA:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            break
    return b"".join(out)


def name_key(name: str) -> str:
    """What two names that a checkout on macOS or Windows takes for the same file have in common (case, accents
    composed or not).

    >>> name_key("Tra\\u0308ning.PNG") == name_key("tr\\u00e4ning.png")
    True
    """
    return unicodedata.normalize("NFC", name).casefold()


def reserved_on_windows(name: str) -> bool:
    """Whether Windows reserves the file name for a device (CON, NUL, COM1...), whatever its extension.

    >>> reserved_on_windows("con.png"), reserved_on_windows("NUL.tar.gz"), reserved_on_windows("console.png")
    (True, True, False)
    """
    return bool(_RESERVED.match(name.split(".", 1)[0].rstrip(" ")))


def safe_name(wanted: str, extension: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    r"""A file name for reports/figures/: letters, digits, - and _, the extension of the content, not yet `taken`
    (ignoring case), and none that Windows reserves.

    >>> safe_name("My plot (final).PNG", "png")
    'My-plot-final.png'
    >>> safe_name("..\\../etc/passwd.png", "jpg", {"passwd.jpg"})
    'passwd-2.jpg'
    >>> safe_name("CON.png", "png")
    'CON-figure.png'
    """
    base = wanted.replace("\\", "/").rsplit("/", 1)[-1]  # a path is not a name: keep its last part
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = _UNSAFE.sub("-", stem).strip("-_")[:MAX_NAME_LENGTH] or "figure"
    if reserved_on_windows(stem):
        stem = f"{stem}-figure"
    taken = {name_key(t) for t in taken}  # x.png and X.png would clash in a checkout on macOS or Windows
    name, counter = f"{stem}.{extension}", 1
    while name_key(name) in taken:
        counter += 1
        name = f"{stem}-{counter}.{extension}"
    return name


def referenced_names(markdown_text: str) -> set[str]:
    """The figure file names a piece of markdown points at (`figures/x.png`, `./figures/x.png`, in ![]() or HTML).

    >>> sorted(referenced_names('![a](figures/a.png) <img src="./figures/b.jpg"> figures/c.png'))
    ['a.png', 'b.jpg', 'c.png']
    """
    return {name for match in _REFERENCE.findall(markdown_text) if (name := figure_name(match))}
