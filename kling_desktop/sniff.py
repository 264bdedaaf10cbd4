"""The one media sniffer: what kind of file this is, by its first bytes (and boxes).

PNG, JPEG, the ISO-BMFF flavours (MP4, MOV, 3GP, HEIC, AVIF... told apart by
their ``ftyp`` brands), web pages, text and about thirty other formats people
pick by mistake. Ground floor: it imports nothing of the app but the user's language
(:mod:`kling_desktop.i18n`, for :func:`describe_format`), so the input checks
(``engine.media``), the simulator and the API client share it.
"""

from __future__ import annotations

import struct

from kling_desktop.i18n import N_, _

__all__ = [
    "STILL_IMAGES",
    "VIDEOS",
    "describe_format",
    "identify",
    "kind_from_extension",
    "looks_like_html",
]

_NAMES: dict[str, str] = {
    "png": N_("a PNG image"),
    "jpeg": N_("a JPG image"),
    "gif": N_("a GIF image"),
    "webp": N_("a WebP image"),
    "bmp": N_("a BMP image"),
    "tiff": N_("a TIFF image"),
    "heic": N_("an HEIC photo"),
    "avif": N_("an AVIF image"),
    "jxl": N_("a JPEG XL image"),
    "jp2": N_("a JPEG 2000 image"),
    "psd": N_("a Photoshop document"),
    "ico": N_("an icon file"),
    "svg": N_("an SVG drawing"),
    "pdf": N_("a PDF document"),
    "zip": N_("a ZIP archive"),
    "html": N_("a web page (HTML)"),
    "text": N_("a text file"),
    "mp4": N_("an MP4 video"),
    "mov": N_("a MOV (QuickTime) video"),
    "3gp": N_("a 3GP video"),
    "m4a": N_("an M4A audio file"),
    "webm": N_("a WebM video"),
    "mkv": N_("a Matroska (MKV) video"),
    "avi": N_("an AVI video"),
    "wmv": N_("a WMV video"),
    "flv": N_("a Flash (FLV) video"),
    "mpeg-ts": N_("an MPEG-TS video"),
    "mpeg-ps": N_("an MPEG video"),
    "wav": N_("a WAV audio file"),
    "mp3": N_("an MP3 audio file"),
    "ogg": N_("an Ogg file"),
    "flac": N_("a FLAC audio file"),
}

STILL_IMAGES = frozenset({"png", "jpeg", "gif", "webp", "bmp", "tiff", "heic", "avif", "jxl",
                          "jp2", "psd", "ico", "svg"})
VIDEOS = frozenset({"mp4", "mov", "3gp", "webm", "mkv", "avi", "wmv", "flv", "mpeg-ts",
                    "mpeg-ps"})

_EXTENSIONS: dict[str, str] = {
    ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".jpe": "jpeg", ".jfif": "jpeg",
    ".gif": "gif", ".webp": "webp", ".bmp": "bmp", ".tif": "tiff", ".tiff": "tiff",
    ".heic": "heic", ".heif": "heic", ".avif": "avif", ".jxl": "jxl", ".jp2": "jp2",
    ".psd": "psd", ".ico": "ico", ".svg": "svg", ".pdf": "pdf", ".zip": "zip",
    ".html": "html", ".htm": "html", ".txt": "text",
    ".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".qt": "mov", ".3gp": "3gp",
    ".m4a": "m4a", ".webm": "webm", ".mkv": "mkv", ".avi": "avi", ".wmv": "wmv",
    ".flv": "flv", ".ts": "mpeg-ts", ".mts": "mpeg-ts", ".m2ts": "mpeg-ts",
    ".mpg": "mpeg-ps", ".mpeg": "mpeg-ps", ".wav": "wav", ".mp3": "mp3", ".ogg": "ogg",
    ".flac": "flac",
}


def describe_format(kind: str | None) -> str:
    """``"gif"`` -> ``"a GIF image"``; None -> ``"an unknown kind of file"``."""
    if kind is None:
        return _("an unknown kind of file")
    name = _NAMES.get(kind)
    return _(name) if name else _("a {kind} file").format(kind=kind)


def kind_from_extension(suffix: str) -> str | None:
    """The format key a file name's ending claims (``".JPG"`` -> ``"jpeg"``), or None."""
    return _EXTENSIONS.get(suffix.lower())


_BMFF_QT_FIRST = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"junk"}
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def _brands_kind(major: bytes, compatible: list[bytes]) -> str:
    brands = {major, *compatible}
    if major == b"qt  ":
        return "mov"
    if brands & {b"avif", b"avis"}:
        return "avif"
    if brands & _HEIC_BRANDS:
        return "heic"
    if major.startswith((b"3gp", b"3g2")):
        return "3gp"
    if major in (b"M4A ", b"M4B ", b"M4P "):
        return "m4a"
    return "mp4"


def _identify_bmff(head: bytes) -> str | None:
    """The ISO-BMFF flavour of ``head``, or None when it does not look like one."""
    pos = 0
    first: bytes | None = None
    for _box in range(4):
        if pos + 8 > len(head):
            break
        size, typ = struct.unpack_from(">I4s", head, pos)
        if not all(0x20 <= c < 0x7F for c in typ):
            return None
        if first is None:
            first = typ
            if typ != b"ftyp" and typ not in _BMFF_QT_FIRST:
                return None
            if size not in (0, 1) and size < 8:
                return None
        if typ == b"ftyp":
            body = head[pos + 8 : pos + min(size, 256)]
            if size < 16 or len(body) < 8:
                return None
            major = body[:4]
            compatible = [body[i : i + 4] for i in range(8, len(body) - 3, 4)]
            return _brands_kind(major, compatible)
        if size == 1:
            if pos + 16 > len(head):
                break
            size = struct.unpack_from(">Q", head, pos + 8)[0]
            if size < 16:
                return None
        elif size == 0:
            break
        elif size < 8:
            return None
        pos += size
    return "mov" if first is not None else None


def _looks_like_text(head: bytes) -> bool:
    sample = head[:1024]
    if sample.startswith(b"\xef\xbb\xbf"):
        sample = sample[3:]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the end
            return False
        text = sample[: exc.start].decode("utf-8")
    if not text:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return printable >= 0.95 * len(text)


def identify(head: bytes, size: int | None = None) -> str | None:
    """The format key of content starting with ``head`` (a few KB), or None.

    Keys are those of :func:`describe_format`; ``"empty"`` for no bytes at all.
    """
    if size == 0 or not head:
        return "empty"
    h = head
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if h.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if h.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if h.startswith(b"RIFF") and len(h) >= 12:
        return {b"WEBP": "webp", b"AVI ": "avi", b"WAVE": "wav"}.get(h[8:12])
    if h.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in h[:64] else "mkv"
    if h.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if h.startswith(b"BM") and len(h) >= 18:
        dib = struct.unpack_from("<I", h, 14)[0]
        if dib in (12, 16, 40, 52, 56, 64, 108, 124):
            return "bmp"
    if h.startswith((b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")):
        return "jxl"
    if h.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return "jp2"
    if h.startswith(b"8BPS"):
        return "psd"
    if h.startswith(b"\x00\x00\x01\x00") and len(h) >= 6 and 0 < h[4] + 256 * h[5] < 256:
        return "ico"
    if h.startswith(b"%PDF"):
        return "pdf"
    if h.startswith(b"PK\x03\x04"):
        return "zip"
    if h.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "wmv"
    if h.startswith(b"FLV\x01"):
        return "flv"
    if h.startswith(b"\x00\x00\x01\xba"):
        return "mpeg-ps"
    if h.startswith(b"ID3"):
        return "mp3"
    if h.startswith(b"OggS"):
        return "ogg"
    if h.startswith(b"fLaC"):
        return "flac"
    if len(h) >= 377 and h[0] == h[188] == h[376] == 0x47:
        return "mpeg-ts"
    if len(h) >= 389 and h[4] == h[196] == h[388] == 0x47:
        return "mpeg-ts"  # M2TS (Blu-ray / AVCHD camcorders): 192-byte packets
    bmff = _identify_bmff(h)
    if bmff is not None:
        return bmff
    if _looks_like_text(h):
        lowered = h[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if looks_like_html(lowered) or b"<html" in lowered[:512]:
            return "html"
        if b"<svg" in lowered:
            return "svg"
        return "text"
    return None


_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")


def looks_like_html(head: bytes) -> bool:
    """Whether content starts like a web page (after a BOM and blank space), not like media."""
    return head[:64].lstrip(b"\xef\xbb\xbf \t\r\n\x0b\x0c").lower().startswith(_HTML_STARTS)
