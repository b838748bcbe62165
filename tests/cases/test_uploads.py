"""Upload checks: type by content, sizes, image re-encoding (no EXIF/GPS/payload survives), PDF screening."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zipfile
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, ImageCms, PngImagePlugin, TiffImagePlugin

from civicgrid.cases import uploads
from civicgrid.cases.uploads import ALLOWED, clean_upload
from civicgrid.errors import DomainError

MB = 10 * 2**20
R = TiffImagePlugin.IFDRational


def _encode(im: Image.Image, fmt: str, **params) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


def _noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    # Noise keeps JPEGs large enough that cutting one in half really truncates the scan data.
    return Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))


def _photo_exif(*, orientation=6, lat=None, lat_ref="N", lon_ref="E", offset=None):
    lat = lat or (R(32, 1), R(3, 1), R(0, 1))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {1: lat_ref, 2: lat, 3: lon_ref, 4: (R(118, 1), R(48, 1), R(0, 1))}
    sub = {0x9003: "2024:05:01 08:30:00"}
    if offset:
        sub[0x9011] = offset
    exif[0x8769] = sub
    return exif


def _sideways_photo() -> Image.Image:
    # Stored landscape, red left half / blue right half; orientation 6 means "rotate 90° clockwise".
    im = Image.new("RGB", (200, 100), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 100, 100))
    return im


def _code(data: bytes, name: str = "upload", **kw) -> DomainError:
    with pytest.raises(DomainError) as caught:
        clean_upload(name, data, max_bytes=kw.pop("max_bytes", MB), **kw)
    return caught.value


def _pdf(*body: bytes) -> bytes:
    return b"\n".join(
        [
            b"%PDF-1.7",
            b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
            b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj",
            *body,
            b"trailer << /Root 1 0 R >>",
            b"%%EOF",
            b"",
        ]
    )


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds almost no pixel data: what a bomb looks like to open()."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64)))


def test_jpeg_gps_is_read_then_exif_stripped_and_orientation_applied():
    source = _encode(_sideways_photo(), "JPEG", exif=_photo_exif())
    # The fixture really carries what a phone writes, so the assertions below mean something.
    written = Image.open(io.BytesIO(source)).getexif()
    assert written[0x0112] == 6 and written.get_ifd(0x8825)[1] == "N" and b"Exif" in source

    clean = clean_upload("IMG_0001.JPG", source, max_bytes=MB)

    assert (clean.kind, clean.content_type, clean.extension) == ("image", "image/jpeg", ".jpg")
    lon, lat = clean.gps
    assert lon == pytest.approx(118.80, abs=1e-4) and lat == pytest.approx(32.05, abs=1e-4)
    assert clean.taken_at == datetime(2024, 5, 1, 8, 30)  # no offset in EXIF: stays naive
    stored = Image.open(io.BytesIO(clean.data))
    assert len(stored.getexif()) == 0 and stored.getexif().get_ifd(0x8825) == {}
    assert b"Exif" not in clean.data and b"2024:05:01" not in clean.data
    assert stored.size == (clean.width, clean.height) == (100, 200)
    top, bottom = stored.convert("RGB").getpixel((50, 10)), stored.convert("RGB").getpixel((50, 190))
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]  # red half went up, as on the phone


def test_gps_sign_from_refs_and_offset_makes_time_aware():
    source = _encode(_sideways_photo(), "JPEG", exif=_photo_exif(lat_ref="S", lon_ref="W", offset="+08:00"))
    clean = clean_upload("p.jpg", source, max_bytes=MB)
    assert clean.gps == pytest.approx((-118.80, -32.05), abs=1e-4)
    assert clean.taken_at == datetime(2024, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize(
    "exif_kw",
    [
        {"lat": (R(32, 0), R(3, 1), R(0, 1))},  # zero denominator
        {"lat_ref": "Q"},
        {"lat": (R(32, 1), R(75, 1), R(0, 1))},  # 75 minutes
        {"lat": (R(95, 1), R(0, 1), R(0, 1))},  # beyond the pole
    ],
)
def test_malformed_gps_is_ignored_not_raised(exif_kw):
    clean = clean_upload(
        "p.jpg", _encode(_sideways_photo(), "JPEG", exif=_photo_exif(**exif_kw)), max_bytes=MB
    )
    assert clean.gps is None and clean.width == 100


def test_png_stays_png_with_alpha_and_loses_text_and_icc():
    im = Image.new("RGBA", (64, 48), (10, 20, 30, 128))
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "<script>alert(1)</script>")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    clean = clean_upload("shot.png", _encode(im, "PNG", pnginfo=text, icc_profile=icc), max_bytes=MB)
    assert (clean.kind, clean.content_type, clean.extension) == ("image", "image/png", ".png")
    assert Image.open(io.BytesIO(clean.data)).mode == "RGBA"
    assert b"<script" not in clean.data and b"iCCP" not in clean.data and b"tEXt" not in clean.data
    assert clean.sha256 == hashlib.sha256(clean.data).hexdigest() and clean.size == len(clean.data)
    assert clean.gps is None and clean.taken_at is None


def test_webp_stays_webp_without_metadata():
    source = _encode(_sideways_photo(), "WEBP", quality=90, exif=_photo_exif())
    clean = clean_upload("x.webp", source, max_bytes=MB)
    assert (clean.content_type, clean.extension) == ("image/webp", ".webp")
    assert Image.open(io.BytesIO(clean.data)).format == "WEBP"
    assert (
        b"EXIF" not in clean.data and b"Exif" not in clean.data and (clean.width, clean.height) == (100, 200)
    )
    assert clean.gps == pytest.approx((118.80, 32.05), abs=1e-4)
    assert clean.sha256 == hashlib.sha256(clean.data).hexdigest() and clean.size == len(clean.data)


def test_payload_after_end_marker_or_in_comment_is_dropped():
    source = _encode(_noise((120, 80)), "JPEG", comment=b"<script>evil()</script>")
    clean = clean_upload("a.jpg", source + b"<script>alert(1)</script>", max_bytes=MB)
    assert b"<script" not in clean.data
    assert Image.open(io.BytesIO(clean.data)).size == (120, 80)


def test_name_only_has_to_agree_with_family_and_stored_extension_is_ours():
    clean = clean_upload("C:\\Users\\me\\photo.PNG", _encode(_noise((30, 20)), "JPEG"), max_bytes=MB)
    assert (clean.content_type, clean.extension) == ("image/jpeg", ".jpg")
    assert clean_upload("no-extension", _encode(_noise((30, 20)), "JPEG"), max_bytes=MB).extension == ".jpg"
    assert _code(_encode(_noise((30, 20)), "JPEG"), "evil.exe").code == "upload_type_mismatch"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("photo.jpg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("anim.gif", _encode(Image.new("RGB", (4, 4)), "GIF")),
        ("photo.jpg", b"MZ\x90\x00" + bytes(60)),
        ("photo.jpg", random.Random(7).randbytes(4096)),
    ],
    ids=["html", "svg", "gif", "exe", "random"],
)
def test_other_types_are_refused_by_content(name, data):
    error = _code(data, name)
    assert error.code == "upload_type" and error.detail["allowed"] == ALLOWED
    assert "JPEG" in error.message and "PDF" in error.message and "HEIC" in error.message


def test_zip_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.jpg", _encode(_noise((8, 8)), "JPEG"))
    assert _code(buffer.getvalue(), "photos.jpg").code == "upload_type"


def test_heic_is_refused_with_its_own_message():
    error = _code(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "IMG_0001.HEIC")
    assert (
        error.code == "upload_type" and "HEIC" in error.message and error.detail["detected"] == "image/heic"
    )


def test_empty_and_too_large():
    assert _code(b"").code == "upload_empty"
    error = _code(_encode(_noise((50, 50)), "JPEG"), max_bytes=100)
    assert error.code == "upload_too_large" and error.status == 413
    assert error.detail["max_bytes"] == 100 and error.detail["size"] > 100


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns past ~89 MP
def test_decompression_bomb_is_refused_before_decoding():
    bomb = _encode(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(bomb) < MB  # tiny on the wire, 100 MP (300 MB as RGB) once decoded
    assert _code(bomb, "bomb.png", max_pixels=1_000_000).code == "upload_too_many_pixels"
    # Past Pillow's own hard limit only the header exists; the refusal must still be ours, not a 500.
    assert _code(_png_header_only(20_000, 20_000), "bomb.png").code == "upload_too_many_pixels"


def test_truncated_and_damaged_images_are_corrupt():
    source = _encode(_noise((400, 300)), "JPEG")
    assert _code(source[: len(source) // 2], "cut.jpg").code == "upload_corrupt"
    png = bytearray(_encode(_noise((40, 30)), "PNG"))
    png[60] ^= 0xFF  # inside IDAT: CRC no longer matches
    assert _code(bytes(png), "bad.png").code == "upload_corrupt"


@pytest.mark.parametrize(("size", "expected"), [((4000, 3000), (2560, 1920)), ((6000, 3000), (2560, 1280))])
def test_large_photos_are_downscaled(size, expected):
    clean = clean_upload("big.jpg", _encode(Image.new("RGB", size, (90, 140, 60)), "JPEG"), max_bytes=10 * MB)
    assert (clean.width, clean.height) == expected == Image.open(io.BytesIO(clean.data)).size


def test_minimal_pdf_is_kept_as_received():
    source = _pdf(b"3 0 obj << /Length 8 >>\nstream\n/JS\xa7\x01abc\nendstream\nendobj")  # binary, not a name
    clean = clean_upload("report.pdf", source, max_bytes=MB)
    assert (clean.kind, clean.content_type, clean.extension) == ("document", "application/pdf", ".pdf")
    assert clean.data == source and clean.size == len(source) and clean.width is None and clean.gps is None
    assert clean.sha256 == hashlib.sha256(source).hexdigest()


@pytest.mark.parametrize(
    "body",
    [
        b"3 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj",
        b"3 0 obj << /S /J#61v#61Script /J#53 (app.alert(1)) >> endobj",  # #xx escapes
        b"3 0 obj << /S /Launch /F (cmd.exe) >> endobj",
        b"3 0 obj << /Type /EmbeddedFile /Length 0 >> endobj",
        b"4 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n"
        + zlib.compress(b"1 0 << /OpenAction 5 0 R >>")
        + b"\nendstream\nendobj",  # hidden in a compressed object stream
    ],
    ids=["javascript", "escaped", "launch", "embedded", "objstm"],
)
def test_active_pdf_is_refused(body):
    assert _code(_pdf(body), "a.pdf").code == "upload_unsafe_pdf"


def test_pdf_named_as_image_or_without_trailer():
    assert _code(_pdf(), "a.png").code == "upload_type_mismatch"
    assert _code(_pdf()[:-8], "a.pdf").code == "upload_corrupt"


@pytest.mark.parametrize(
    "body",
    [
        b"stream\n" + zlib.compress(bytes(3 * 2**20)) + b"\nendstream",  # a deflate bomb
        b"stream\n" * 2000,  # endless stream keywords, each a fresh inflate attempt
    ],
    ids=["bomb", "keywords"],
)
def test_pdf_inspection_is_bounded(body, monkeypatch):
    monkeypatch.setattr(uploads, "_PDF_INFLATE_BUDGET", 2**20)
    error = _code(_pdf(body), "a.pdf")
    assert error.code == "upload_unsafe_pdf" and error.detail == {"reason": "too_complex"}
