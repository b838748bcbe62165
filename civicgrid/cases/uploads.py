"""Checks and cleans files attached to cases: photos from phones, scanned or exported documents.

Nothing about an upload is trusted. Its type comes from the bytes, never from the name or a client
Content-Type. Images are decoded and re-encoded from bare pixels, so EXIF (with the reporter's GPS
position), ICC/XMP, comments, text chunks and anything smuggled after the end marker are all gone.
PDFs cannot be rebuilt that way, so they are kept as received but refused if they carry active content.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from civicgrid.errors import DomainError

MAX_SIDE = 2560
ALLOWED = ["image/jpeg", "image/png", "image/webp", "application/pdf"]
_IMAGES = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
# A name only has to agree with the family: phones and apps mislabel JPEG/PNG freely (and some save
# JPEG under .heic), which is harmless because the stored extension comes from the content.
_FAMILY_EXTENSIONS = {
    "image": {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".heic", ".heif"},
    "document": {".pdf"},
}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

# PDF names that run code, open other programs or carry files. Compared after #xx unescaping
# (/J#61vaScript is /JavaScript to a viewer) and as whole names, so random bytes inside image streams
# do not trip the check the way a plain substring search would.
_PDF_DANGEROUS = {b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"EmbeddedFiles", b"OpenAction"}
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /\[\]()<>{}%]*)")
_PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"(?<!end)stream\r?\n")
# Inflating every stream is what lets us see inside object streams (PDF 1.5+), where a dictionary with
# /OpenAction hides compressed; the budget keeps a deflate bomb from eating memory or minutes.
_PDF_INFLATE_BUDGET = 256 * 1024 * 1024
_PDF_CARRY = 64  # longer than any dangerous name fully #-escaped, so none is lost between pieces


@dataclass(frozen=True)
class CleanFile:
    kind: str
    content_type: str
    extension: str
    data: bytes
    sha256: str
    size: int
    width: int | None
    height: int | None
    gps: tuple[float, float] | None  # (lon, lat) WGS-84 from the original EXIF; for staff only
    taken_at: datetime | None

    def row_fields(self) -> dict:
        """What a stored file's row keeps of it (case attachments, inspection photos)."""
        return {
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "gps_lon": self.gps[0] if self.gps else None,
            "gps_lat": self.gps[1] if self.gps else None,
        }

    def save_for(self, row) -> None:
        """Write the bytes under ``row.file``'s name: content-addressed, so a retried write is harmless."""
        name = row.file.field.generate_filename(row, "x" + self.extension)
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(self.data))
        row.file.name = name


def clean_upload(name: str, data: bytes, *, max_bytes: int, max_pixels: int = 40_000_000) -> CleanFile:
    """Return what to store for an upload, or raise DomainError. ``name`` is only read for its extension."""
    if not data:
        raise DomainError("upload_empty", _("The file is empty."))
    if len(data) > max_bytes:
        raise DomainError(
            "upload_too_large",
            _("The file is too large; the limit is %(limit)s MB.") % {"limit": f"{max_bytes / 2**20:.3g}"},
            {"max_bytes": max_bytes, "size": len(data)},
            status=413,
        )
    fmt = _sniff(data)
    if fmt == "HEIC":
        raise DomainError(
            "upload_type",
            _(
                "HEIC photos are not supported. Please send JPEG, PNG or WEBP "
                "(on iPhone: Settings > Camera > Formats > Most Compatible)."
            ),
            {"allowed": ALLOWED, "detected": "image/heic"},
        )
    if not fmt:
        raise DomainError(
            "upload_type",
            _("Only JPEG, PNG or WEBP images and PDF documents can be attached (HEIC is not supported)."),
            {"allowed": ALLOWED},
        )
    kind = "document" if fmt == "PDF" else "image"
    content_type = "application/pdf" if fmt == "PDF" else _IMAGES[fmt][0]
    extension = _extension(name)
    if extension and extension not in _FAMILY_EXTENSIONS[kind]:
        raise DomainError(
            "upload_type_mismatch",
            _("The file name ends in %(extension)s but the file is %(detected)s.")
            % {"extension": extension, "detected": fmt},
            {"extension": extension, "detected": content_type},
        )
    if fmt == "PDF":
        _check_pdf(data)
        return _result("document", content_type, ".pdf", data)
    return _clean_image(fmt, data, max_pixels)


def _sniff(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data.startswith(b"%PDF-"):
        return "PDF"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        return "HEIC"  # detected only to give iPhone users a useful message
    return ""


def _extension(name: str) -> str:
    # Browsers on old Windows send full client paths; only the last component can carry an extension.
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(".")
    return "." + base.rpartition(".")[2].lower() if "." in base else ""


def _result(kind, content_type, extension, data, width=None, height=None, gps=None, taken_at=None):
    sha256 = hashlib.sha256(data).hexdigest()
    return CleanFile(kind, content_type, extension, data, sha256, len(data), width, height, gps, taken_at)


def _clean_image(fmt: str, data: bytes, max_pixels: int) -> CleanFile:
    too_many = DomainError(
        "upload_too_many_pixels",
        _("The image has too many pixels; the limit is %(limit)s megapixels.")
        % {"limit": max_pixels // 10**6},
        {"max_pixels": max_pixels},
    )
    try:
        # formats= keeps Pillow from trying any other decoder (EPS would even start Ghostscript).
        with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
            width, height = probe.size
            if width * height > max_pixels:  # checked from the header, before anything is decoded
                raise too_many
            probe.verify()
        # verify() leaves the image unusable, so decoding needs a fresh open.
        with Image.open(io.BytesIO(data), formats=[fmt]) as im:
            if fmt == "JPEG" and max(width, height) > MAX_SIDE:
                # Let libjpeg decode at 1/2, 1/4… scale when that still covers the target: less memory.
                ratio = MAX_SIDE / max(width, height)
                im.draft(None, (math.ceil(width * ratio), math.ceil(height * ratio)))
            im.load()
            gps, taken_at = _exif_facts(im)
            try:
                # Phones store photos sideways plus an orientation tag that dies with the EXIF, so it
                # must be applied to the pixels; unreadable EXIF should not cost the user the photo.
                upright = ImageOps.exif_transpose(im)
            except Exception:
                upright = im
            has_alpha = fmt != "JPEG" and upright.has_transparency_data
            pixels = upright.convert("RGBA" if has_alpha else "RGB")
    except DomainError:
        raise
    except Image.DecompressionBombError:  # Pillow's own hard cap, hit at open for absurd sizes
        raise too_many from None
    except Exception:
        # Pillow raises a zoo of types (OSError, SyntaxError, ValueError, struct.error…) for hostile
        # or truncated input; to the uploader they all mean the same thing.
        raise DomainError("upload_corrupt", _("The image is damaged or incomplete.")) from None
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A new image built from raw pixels has an empty info dict. Pillow's encoders fall back to
    # im.info for some metadata (PNG copies the ICC profile, JPEG the comment), so this is what
    # guarantees nothing but pixels reaches the stored file.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        clean.save(out, "PNG")
    else:
        clean.save(out, "WEBP", quality=85)
    content_type, extension = _IMAGES[fmt]
    return _result("image", content_type, extension, out.getvalue(), *clean.size, gps, taken_at)


def _exif_facts(im: Image.Image) -> tuple[tuple[float, float] | None, datetime | None]:
    # EXIF is attacker-shaped data; any parse failure just means "no position, no time".
    try:
        exif = im.getexif()
        return _gps(exif.get_ifd(0x8825)), _taken_at(exif.get_ifd(0x8769))
    except Exception:
        return None, None


def _gps(ifd) -> tuple[float, float] | None:
    lat = _degrees(ifd.get(2), ifd.get(1), "N", "S", 90)
    lon = _degrees(ifd.get(4), ifd.get(3), "E", "W", 180)
    # Devices without a fix often write 0/0; a case in the Gulf of Guinea is not a real position.
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None
    return (lon, lat)


def _degrees(value, ref, positive: str, negative: str, limit: float) -> float | None:
    ref = (_text(ref) or "").upper()
    if ref not in (positive, negative) or not isinstance(value, tuple | list) or not 1 <= len(value) <= 3:
        return None
    try:
        parts = [float(v) for v in value]  # IFDRational with a zero denominator becomes nan
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not all(math.isfinite(p) and p >= 0 for p in parts) or any(p >= 60 for p in parts[1:]):
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    if degrees > limit:
        return None
    return -degrees if ref == negative else degrees


def _taken_at(ifd) -> datetime | None:
    try:
        value = datetime.strptime(_text(ifd.get(0x9003)) or "", "%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    except ValueError:
        return None  # absent, or the "0000:00:00 00:00:00" some cameras write
    # OffsetTimeOriginal (EXIF 2.31) makes the time aware; without it the camera's clock is all we know.
    offset = re.fullmatch(r"([+-])([01]\d|2[0-3]):([0-5]\d)", _text(ifd.get(0x9011)) or "")
    if offset:
        sign = -1 if offset[1] == "-" else 1
        value = value.replace(tzinfo=timezone(sign * timedelta(hours=int(offset[2]), minutes=int(offset[3]))))
    return value


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def _check_pdf(data: bytes) -> None:
    # Viewers look for the trailer within the last KiB; without one this is not a complete PDF.
    if b"%%EOF" not in data[-1024:]:
        raise DomainError("upload_corrupt", _("The PDF is damaged or incomplete."))
    # Names are compared after #xx unescaping and across every inflated stream (see _pdf_texts).
    for text in _pdf_texts(data):
        for match in _PDF_NAME.finditer(text):
            found = _PDF_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), match[1])
            if found in _PDF_DANGEROUS:
                message = _("The PDF contains scripts, actions or attached files and cannot be accepted.")
                raise DomainError(
                    "upload_unsafe_pdf", message, {"name": "/" + found.decode("ascii", "replace")}
                )


def _pdf_texts(data: bytes):
    """Yield the file itself, then the inflated content of each Flate stream in pieces, within a budget."""
    yield data
    view, budget = memoryview(data), _PDF_INFLATE_BUDGET
    for start in _PDF_STREAM.finditer(data):
        inflater, pos, carry = zlib.decompressobj(), start.end(), b""
        budget -= 1024  # a floor per stream, so a file of nothing but "stream" keywords stays cheap
        try:
            # Fed in pieces until the deflate stream ends, rather than trusting /Length or the next
            # "endstream", which a crafted stream can contain.
            while not inflater.eof and pos < len(data):
                piece, pos = view[pos : pos + 65536], pos + 65536
                while piece and not inflater.eof:
                    if budget < 0:
                        message = _("The PDF is too complex to check and cannot be accepted.")
                        raise DomainError("upload_unsafe_pdf", message, {"reason": "too_complex"})
                    out = inflater.decompress(piece, 1 << 20)
                    piece, budget = inflater.unconsumed_tail, budget - len(out)
                    yield carry + out
                    carry = (carry + out)[-_PDF_CARRY:]
        except zlib.error:
            continue  # not Flate (e.g. a JPEG image stream) — its raw bytes were already scanned
