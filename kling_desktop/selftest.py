"""``kling-desktop --self-test``: does this installation work?

Runs from source and inside the frozen app, with or without a display, in a
few seconds. Each check prints one line::

    ok   <check>: <what was seen>
    FAIL <check>: <what went wrong>
    info <check>: <worth knowing, not a failure>

and :func:`run_self_test` returns non-zero when any check failed. The checks
exercise what a frozen build most often loses: Qt plugins (platform, image
formats, the FFmpeg media backend), keyring's entry points, certifi's CA
bundle, SQLite, and the app's own HTTP client and simulator (multipart
parsing, streaming, downloads). Everything is written to a temporary folder;
``KLING_DATA_DIR`` points there while the checks run, so the user's data,
library and settings are never touched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn, TextIO, TypeVar

from kling_desktop import __version__, i18n, paths
from kling_desktop.i18n import ngettext

Level = Literal["ok", "FAIL", "info"]
T = TypeVar("T")

MEDIA_TIMEOUT_S = 8.0
KEYRING_TIMEOUT_S = 5.0
ROUND_TRIP_TIMEOUT_S = 10.0
# A sample clip is a few seconds long; anything outside this is a wrong reading.
SAMPLE_DURATION_RANGE_MS = (500, 120_000)


@dataclass(frozen=True)
class Result:
    level: Level
    check: str
    detail: str

    def line(self) -> str:
        return f"{self.level:<4} {self.check}: {self.detail}"


class Informational(Exception):
    """Raised by a check whose finding is worth reporting but is not a failure."""


@dataclass(frozen=True)
class Context:
    """What every check may use: a scratch folder that is deleted afterwards."""

    scratch: Path
    frozen: bool


Check = Callable[[Context], str]


# ---------------------------------------------------------------- helpers


def _is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _run_with_timeout(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Run ``fn`` on a daemon thread; give up after ``seconds`` (a stuck D-Bus call, say)."""
    box: dict[str, T | BaseException] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"selftest-{what}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"{what} did not answer within {seconds:.0f} s")
    if "error" in box:
        error = box["error"]
        assert isinstance(error, BaseException)
        raise error
    return box["value"]  # type: ignore[return-value]


def _missing_own_module(exc: ModuleNotFoundError, ctx: Context) -> NoReturn:
    """From source, a part of the app that is not written yet is information, not a failure."""
    name = exc.name or ""
    if name.startswith("kling_desktop") and not ctx.frozen:
        raise Informational(f"skipped: {name} is not available in this checkout") from exc
    raise exc


# ---------------------------------------------------------------- checks


def check_qt(ctx: Context) -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QCoreApplication, QLibraryInfo, qVersion
    from PySide6.QtGui import QGuiApplication

    app = QCoreApplication.instance()
    if app is None:
        app = QGuiApplication([sys.argv[0] if sys.argv else "kling-desktop"])
    if not isinstance(app, QGuiApplication):
        raise RuntimeError("a non-GUI QCoreApplication already exists; image checks need Qt GUI")
    platform = QGuiApplication.platformName()

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    found = sorted(_plugin_names(plugins))
    required = {"linux": "xcb", "win32": "windows", "darwin": "cocoa"}.get(sys.platform)
    if required and required not in found:
        raise RuntimeError(
            f"the {required!r} platform plugin is missing from {plugins} (found: {found}); "
            "the window could not open on this OS"
        )
    return (
        f"PySide6 {pyside_version}, Qt {qVersion()}, running on {platform!r}; "
        f"platform plugins: {', '.join(found) or 'none'}"
    )


def _plugin_names(folder: Path) -> Iterator[str]:
    """Bare plugin names: ``libqxcb.so`` -> ``xcb``, ``qwindows.dll`` -> ``windows``."""
    if not folder.is_dir():
        return
    for item in folder.iterdir():
        if item.suffix not in (".so", ".dll", ".dylib"):
            continue
        stem = item.stem.removeprefix("lib")
        yield stem.removeprefix("q").removesuffix("mediaplugin")


def check_bindings(ctx: Context) -> str:
    """PySide6 6.12 on Python < 3.12 drops a reference to None on every call returning nothing.

    None's count then reaches zero after a while and the interpreter aborts
    ("Fatal Python error: none_dealloc"): a window left open crashes. Python 3.12
    made None immortal. A shipped build must not have the bug (FAIL when frozen); a
    development checkout is only told (tests/run.sh warns too).
    """
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QPointF

    where = f"PySide6 {pyside_version} on Python {sys.version.split()[0]}"
    if sys.version_info >= (3, 12):
        return f"{where}: None is immortal, reference counting is safe"
    probe = QPointF()
    before = sys.getrefcount(None)
    for _attempt in range(200):
        probe.setX(1.0)
    lost = before - sys.getrefcount(None)
    if lost < 100:
        return f"{where}: reference counting is safe"
    message = (f"{where} loses a reference to None on every call; long sessions abort "
               "with 'deallocating None'. Build with Python >= 3.12 or PySide6 < 6.12.")
    if ctx.frozen:
        raise RuntimeError(message)
    raise Informational(message)


def check_images(ctx: Context) -> str:
    from PySide6.QtGui import QImage, QImageReader

    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"png", "jpeg", "svg"} - formats
    if missing:
        raise RuntimeError(f"image formats missing: {sorted(missing)} (have {sorted(formats)})")
    sample = paths.sample_character()
    image = QImage(str(sample))
    if image.isNull():
        raise RuntimeError(f"cannot read the sample picture {sample}")
    icon = paths.resources_dir() / "icons" / "app.svg"
    detail = f"png, jpeg, svg readable; sample picture {image.width()}x{image.height()}"
    if icon.is_file():
        svg = QImage(str(icon))
        if svg.isNull():
            raise RuntimeError(f"cannot render the app icon {icon} (QtSvg / svg plugin missing?)")
        detail += "; app icon renders"
    return detail


def check_multimedia(ctx: Context) -> str:
    from PySide6.QtCore import QEventLoop, QLibraryInfo, QTimer, QUrl
    from PySide6.QtMultimedia import QMediaFormat, QMediaPlayer

    from kling_desktop.convert.qt_threads import qt_thread_safe

    backends = sorted(
        _plugin_names(Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "multimedia")
    )
    decode = QMediaFormat().supportedFileFormats(QMediaFormat.ConversionMode.Decode)
    names = {QMediaFormat.fileFormatName(f) for f in decode}
    if not {"MPEG-4", "QuickTime"} <= names:
        raise RuntimeError(
            f"no MP4/MOV decoding (decodable: {sorted(names) or 'nothing'}; "
            f"backend plugins: {backends or 'none'})"
        )

    player = qt_thread_safe(QMediaPlayer())
    if not player.isAvailable():
        raise RuntimeError(f"no media backend is available (plugins: {backends or 'none'})")
    loop = QEventLoop()
    errors: list[str] = []
    done = QMediaPlayer.MediaStatus

    def on_status(status: QMediaPlayer.MediaStatus) -> None:
        if status in (done.LoadedMedia, done.InvalidMedia, done.BufferedMedia):
            loop.quit()

    def on_error(_error: QMediaPlayer.Error, text: str) -> None:
        errors.append(text or "unknown error")
        loop.quit()

    player.mediaStatusChanged.connect(on_status)
    player.errorOccurred.connect(on_error)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    sample = paths.sample_motion()
    try:
        timer.start(int(MEDIA_TIMEOUT_S * 1000))
        player.setSource(QUrl.fromLocalFile(str(sample)))
        if player.mediaStatus() not in (done.LoadedMedia, done.BufferedMedia):
            loop.exec()
        timer.stop()
        duration = player.duration()
        status = player.mediaStatus()
    finally:
        player.setSource(QUrl())
        player.deleteLater()
    if errors:
        raise RuntimeError(f"cannot open the sample clip {sample.name}: {errors[0]}")
    low, high = SAMPLE_DURATION_RANGE_MS
    if not low <= duration <= high:
        raise RuntimeError(
            f"sample clip duration not read within {MEDIA_TIMEOUT_S:.0f} s "
            f"(status {status.name}, duration {duration} ms)"
        )
    return (
        f"backend {', '.join(backends) or 'built-in'}; MP4/MOV decodable; "
        f"sample clip {duration / 1000:.1f} s"
    )


def check_posters(ctx: Context) -> str:
    """The window's poster helper (a child process of this same program) makes the sample
    clip's poster: what the library's tiles need, frozen or not."""
    import subprocess

    from PySide6.QtGui import QImageReader

    from kling_desktop.ui.poster_helper import helper_command, parse_answer, request_line

    target = ctx.scratch / "poster.jpg"
    program, arguments = helper_command()
    started = time.monotonic()
    done = subprocess.run([program, *arguments],
                          input=request_line(1, paths.sample_motion(), None, target, 360),
                          capture_output=True, text=True, timeout=MEDIA_TIMEOUT_S * 2,
                          check=False)
    spent = time.monotonic() - started
    answers = done.stdout.splitlines()
    if done.returncode != 0 or [parse_answer(a) for a in answers] != [(1, True)]:
        raise RuntimeError(f"the poster helper answered {answers!r} (exit "
                           f"{done.returncode}): {done.stderr.strip()[-300:]}")
    size = QImageReader(str(target)).size()
    if not 0 < max(size.width(), size.height()) <= 360:
        raise RuntimeError(f"the poster it wrote is {size.width()}x{size.height()}")
    return f"the sample clip's poster from the helper process in {spent:.1f} s " \
           f"({size.width()}x{size.height()} JPEG)"


def check_encoder(ctx: Context) -> str:
    """The in-app conversions' encoder (Qt Multimedia's recording path, issue 15): the
    first 3 s of the sample clip (the shortest clip the provider takes), trimmed as the
    trim editor would, with its sound."""
    from kling_desktop.api.models import Orientation
    from kling_desktop.convert import convert
    from kling_desktop.convert.clips import video_codec
    from kling_desktop.engine.fixes import Trim, plan_video

    plan = plan_video(paths.sample_motion(), orientation=Orientation.VIDEO, keep_audio=True,
                      trim=Trim(0.0, 3.0), auto=False)
    if plan is None:
        raise RuntimeError("no conversion planned for a trim of the sample clip")
    started = time.monotonic()
    done = convert(plan, output_dir=ctx.scratch / "converted")
    spent = time.monotonic() - started
    if done.duration is None or not 2.9 <= done.duration <= 3.2:
        raise RuntimeError(f"the trimmed sample is {done.duration} s long, not 3 s")
    _codec, label = video_codec()
    sound = "with sound" if done.has_audio else "WITHOUT sound"
    return (f"{label} + AAC; the sample's first 3 s trimmed in {spent:.1f} s "
            f"({done.duration:.2f} s, {done.width}x{done.height}, {sound})")


def check_keyring(ctx: Context) -> str:
    from importlib.metadata import entry_points

    import keyring
    import keyring.backend

    declared = sorted(ep.name for ep in entry_points(group="keyring.backends"))
    if not declared:
        # keyring finds even its own backends through its package metadata: without it
        # the app silently falls back to the "fail" backend everywhere.
        raise RuntimeError(
            "keyring has no backends registered (its entry-point metadata was not bundled)"
        )

    def probe() -> str:
        backend = keyring.get_keyring()
        return f"{type(backend).__module__}.{type(backend).__name__}"

    chosen = _run_with_timeout(probe, KEYRING_TIMEOUT_S, "keyring")
    if chosen.startswith(("keyring.backends.fail", "keyring.backends.null")) or (
        chosen.endswith("ChainerBackend") and not _chained_backends()
    ):
        raise Informational(
            f"no usable keyring on this system (backends registered: {', '.join(declared)}); "
            "the API key can still come from KLING_API_KEY"
        )
    return f"{chosen} (backends registered: {', '.join(declared)})"


def _chained_backends() -> list[object]:
    from keyring.backends import chainer

    return list(chainer.ChainerBackend.backends)


def check_tls(ctx: Context) -> str:
    import ssl

    import certifi
    import httpx

    bundle = Path(certifi.where())
    if not bundle.is_file():
        raise RuntimeError(f"certifi's CA bundle is missing: {bundle}")
    context = httpx.create_ssl_context()
    authorities = context.cert_store_stats().get("x509_ca", 0)
    if authorities < 50:
        raise RuntimeError(f"TLS context holds only {authorities} CA certificates")
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise RuntimeError("TLS context does not verify certificates")
    return f"{authorities} CA certificates from {bundle.name}; {ssl.OPENSSL_VERSION}"


def check_sqlite(ctx: Context) -> str:
    database = ctx.scratch / "selftest.sqlite3"
    connection = sqlite3.connect(database)
    try:
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"WAL mode refused (journal_mode={mode})")
        with connection:
            connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
            connection.execute("INSERT INTO t (body) VALUES (json_object('ok', 1))")
        (body,) = connection.execute("SELECT body FROM t").fetchone()
        if body != '{"ok":1}':
            raise RuntimeError(f"read back {body!r}")
    finally:
        connection.close()
    return f"SQLite {sqlite3.sqlite_version}, WAL and JSON functions work"


def check_round_trip(ctx: Context) -> str:
    try:
        from kling_desktop.api.client import KlingClient
        from kling_desktop.api.exchange import GenerationRequest
        from kling_desktop.api.models import TaskStatus
        from kling_desktop.simulator import Simulator, SimulatorConfig
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError):
            _missing_own_module(exc, ctx)
        if not ctx.frozen and "kling_desktop" in str(exc):
            raise Informational(f"skipped: {exc}") from exc
        raise

    key = f"selftest-{secrets.token_hex(8)}"
    started = time.monotonic()
    deadline = started + ROUND_TRIP_TIMEOUT_S
    simulator = Simulator(SimulatorConfig(api_key=key), storage_dir=ctx.scratch / "simulator")
    simulator.start()
    try:
        with KlingClient(simulator.base_url, key) as client:
            image = client.upload_file(paths.sample_character())
            video = client.upload_file(paths.sample_motion())
            task = client.create_task(GenerationRequest(image_url=image.url, video_url=video.url))
            polls = 0
            while not task.status.is_final:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"task still {task.status} after {polls} polls")
                time.sleep(0.02)
                task = client.get_task(task.id)
                polls += 1
            if task.status is not TaskStatus.COMPLETED or not task.result_url:
                raise RuntimeError(f"task ended {task.status}: {task.error}")
            result = client.download(task.result_url, ctx.scratch / "result.mp4")
    finally:
        simulator.stop()
    with result.open("rb") as handle:
        head = handle.read(12)
    if head[4:8] != b"ftyp":
        raise RuntimeError(f"downloaded result is not an MP4 (starts {head!r})")
    elapsed = time.monotonic() - started
    return (
        f"upload x2 -> create -> {polls} polls -> download "
        f"({result.stat().st_size // 1024} KiB) on loopback in {elapsed:.1f} s"
    )


#: Qt's own catalogs the window loads for its standard buttons and dialogs.
QT_CATALOGS = ("qtbase", "qtmultimedia")


def check_languages(ctx: Context) -> str:
    """Every language's compiled catalog loads and holds messages; Qt's own ones are there."""
    import gettext

    from PySide6.QtCore import QLibraryInfo

    loaded = [i18n.ENGLISH]
    counts: list[str] = []
    for code in i18n.LANGUAGES:
        if code == i18n.ENGLISH:
            continue
        try:
            with (i18n.LOCALE_DIR / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").open("rb") as mo:
                catalog = gettext.GNUTranslations(mo)
        except OSError as exc:
            raise RuntimeError(f"the {code} catalog cannot be loaded: {exc}") from exc
        messages = len(getattr(catalog, "_catalog", {})) - 1  # less the header
        if messages <= 0:
            raise RuntimeError(f"the {code} catalog holds no messages")
        loaded.append(code)
        counts.append(f"{code}: {messages} messages")
    qt_folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    qt_found = [f"{name}_zh_CN" for name in QT_CATALOGS
                if (qt_folder / f"{name}_zh_CN.qm").is_file()]
    if len(qt_found) != len(QT_CATALOGS) and ctx.frozen:
        raise RuntimeError(f"Qt's Chinese catalogs are missing from {qt_folder} "
                           f"(found: {', '.join(qt_found) or 'none'})")
    return (f"{', '.join(loaded)} ({'; '.join(counts)}); "
            f"Qt's own: {', '.join(qt_found) or 'none'}")


CHECKS: tuple[tuple[str, Check], ...] = (
    ("qt", check_qt),
    ("bindings", check_bindings),
    ("images", check_images),
    ("multimedia", check_multimedia),
    ("posters", check_posters),
    ("encoder", check_encoder),
    ("keyring", check_keyring),
    ("tls", check_tls),
    ("sqlite", check_sqlite),
    ("round trip", check_round_trip),
    ("languages", check_languages),
)


# ---------------------------------------------------------------- runner


def run_checks(
    checks: tuple[tuple[str, Check], ...] = CHECKS, *, out: TextIO | None = None
) -> list[Result]:
    """Run each check in a scratch data folder, print a line per result, return them all."""
    stream = out if out is not None else sys.stdout
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="kling-selftest-") as scratch_name:
        scratch = Path(scratch_name)
        ctx = Context(scratch=scratch, frozen=_is_frozen())
        with _environ(KLING_DATA_DIR=str(scratch / "data")):
            for name, check in checks:
                started = time.monotonic()
                try:
                    result = Result("ok", name, check(ctx))
                except Informational as note:
                    result = Result("info", name, str(note))
                except Exception as exc:  # every failure becomes a line
                    result = Result("FAIL", name, f"{type(exc).__name__}: {exc}")
                spent = time.monotonic() - started
                if spent >= 1.0:
                    result = Result(result.level, result.check, f"{result.detail} [{spent:.1f} s]")
                results.append(result)
                print(result.line(), file=stream, flush=True)
    return results


def run_self_test() -> int:
    """Entry for ``kling-desktop --self-test``: 0 when every check passed, 1 otherwise."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # FFmpeg's stream dump and PipeWire probing are noise here; real errors still surface.
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    started = time.monotonic()
    where = "frozen" if _is_frozen() else "source"
    print(f"info version: Kling Motion Studio {__version__} ({where}, {sys.platform}, "
          f"Python {sys.version.split()[0]})", flush=True)
    results = run_checks()
    failed = [r for r in results if r.level == "FAIL"]
    elapsed = time.monotonic() - started
    # The check lines keep one machine-readable form (level, check, technical detail); the
    # verdict speaks the terminal's language.
    seconds = i18n.format_number(elapsed, 1)
    if failed:
        print(ngettext("self-test FAILED: {failed} of {n} check failed ({seconds} s)",
                       "self-test FAILED: {failed} of {n} checks failed ({seconds} s)",
                       len(results)).format(failed=len(failed), n=len(results),
                                            seconds=seconds), flush=True)
        return 1
    print(ngettext("self-test passed: {n} check in {seconds} s",
                   "self-test passed: {n} checks in {seconds} s", len(results)).format(
        n=len(results), seconds=seconds), flush=True)
    return 0
