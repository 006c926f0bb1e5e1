"""Images built for the tests and benchmarks of figures: hostile JPEGs, photos with location data."""

from __future__ import annotations

import functools
import io

from PIL import Image


def progressive_jpeg(width: int, height: int, scans: int) -> bytes:
    """A flat grey progressive JPEG of `width` x `height` saved in `scans` scans (at least 6): Pillow's own six, then
    its last one, a refinement of every AC coefficient, again and again. For a flat image a scan is a few bytes of
    end-of-band runs, but each is one more pass of the decoder over every 8x8 block: 1000 of them over 6000 x 6000
    pixels are 200 kB that take Pillow half a minute.
    """
    buffer = io.BytesIO()
    Image.new("L", (width, height), 128).save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    # An SOS marker (FF DA) cannot occur inside entropy-coded data (an FF there is followed by 00 or a restart
    # marker), so the last one starts the last scan; the file ends with EOI (FF D9) right after that scan's data.
    last_scan = data[data.rindex(b"\xff\xda") : -2]
    assert data.endswith(b"\xff\xd9") and data.count(b"\xff\xda") == 6 <= scans
    return data[:-2] + last_scan * (scans - 6) + data[-2:]


GPS = {1: "N", 2: (55.0, 47.0, 8.5), 3: "E", 4: (12.0, 31.0, 4.2)}  # latitude and longitude of a home
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>55,47.14N</exif:GPSLatitude></x:xmpmeta>'


def noise_image(width: int = 64, height: int = 48) -> Image.Image:
    """Deterministic RGB noise: every pixel differs, so a changed decode shows."""
    import random

    return Image.frombytes("RGB", (width, height), random.Random(0).randbytes(width * height * 3))


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile, made once: its header holds the time it was made, so two made a second apart differ."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def photo_with_location(orientation: int | None = None) -> bytes:
    """A JPEG as a phone saves it: EXIF with the camera and GPS position (and `orientation`), XMP repeating the
    position, a comment and an ICC colour profile."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Phone maker", "Phone 12"  # Make, Model
    exif[0x8825] = GPS  # GPSInfo
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    noise_image().save(buffer, "JPEG", exif=exif, xmp=XMP, comment=b"at home", icc_profile=srgb_profile())
    return buffer.getvalue()


def png_with_location() -> bytes:
    """A PNG with text chunks (tEXt, zTXt, iTXt) and an eXIf chunk holding a GPS position."""
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "at home")
    text.add_text("Location", "55.786 N 12.518 E", zip=True)
    text.add_itxt("XML:com.adobe.xmp", XMP.decode())
    exif = Image.Exif()
    exif[0x8825] = GPS
    buffer = io.BytesIO()
    noise_image().save(buffer, "PNG", pnginfo=text, exif=exif)
    return buffer.getvalue()
