"""Build Kling Motion Studio installers: ``python packaging/build.py``.

One command per OS (run it on the OS you are building for; PyInstaller does not
cross-compile):

- Linux:   dist/kling-desktop/ (one-folder bundle), then
           dist/kling-desktop-<version>-linux-x86_64.tar.gz and
           dist/kling-desktop_<version>_amd64.deb
- Windows: dist/kling-desktop/, then dist/KlingMotionStudio-<version>-setup.exe (Inno Setup)
- macOS:   dist/Kling Motion Studio.app, then dist/KlingMotionStudio-<version>-macos-<arch>.dmg

Next to the installers it writes ``dist/SHA256SUMS`` (``sha256sum --check`` format).

Between the bundle and the installers the frozen app runs ``--self-test``
(offscreen): a build that cannot start Qt, decode the sample clip, find
keyring's backends, load the CA bundle or do a simulated job never becomes an
installer. Then it prints the frozen app's start-up (launch -> first painted window,
median of 5) next to the same app's run from source.

Options:
  --skip-self-test       do not run the frozen self-test (nor the start-up measure)
  --floor                also freeze a minimal PySide6 Widgets + Multimedia window the
                         same way, and print its size next to the app's (the floor)
  --measure              build once per trimming group (see the spec) and print what
                         each group saves; slow (one PyInstaller run per group)
  --platform P           auto (default) | linux | windows | macos
  --no-installers        stop after the bundle and its self-test

Sizes are ``du -sm``-style (MiB of allocated blocks on Unix, file sizes on Windows).
"""

from __future__ import annotations

import argparse
import codecs
import compileall
import contextlib
import gzip
import hashlib
import json
import os
import platform as platform_module
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "kling_desktop.spec"
BUILD = ROOT / "build"
DIST = ROOT / "dist"
ICONS_SRC = ROOT / "resources" / "icons"
NAME = "kling-desktop"
APP_NAME = "Kling Motion Studio"
SELF_TEST_TIMEOUT_S = 180
TRIM_GROUPS = ("python-modules", "qt-modules", "qt-plugins", "gtk3-theme", "qt-libs",
               "qt-translations", "linux-system-libs", "strip")

timings: list[tuple[str, float]] = []
sizes: dict[str, float] = {}


# ------------------------------------------------------------------ small helpers


def log(message: str) -> None:
    print(message, flush=True)


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    log(f"\n==> {title}")
    started = time.monotonic()
    yield
    spent = time.monotonic() - started
    timings.append((title, spent))
    log(f"    {title}: {spent:.1f} s")


def run(argv: list[str | Path], *, env: dict[str, str] | None = None,
        timeout: float | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    shown = " ".join(str(a) for a in argv)
    log(f"    $ {shown}")
    return subprocess.run([str(a) for a in argv], env=env, timeout=timeout, cwd=cwd,
                          check=True, text=True)


def version() -> str:
    text = (ROOT / "kling_desktop" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if not found:
        raise SystemExit("cannot find __version__ in kling_desktop/__init__.py")
    return found.group(1)


def size_mib(path: Path) -> float:
    """Disk usage like ``du -sm`` (allocated blocks; symlinks not followed)."""
    if path.is_file():
        return _usage(path.lstat()) / 2**20
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            total += _usage((Path(folder) / name).lstat())
    return total / 2**20


def _usage(st: os.stat_result) -> int:
    blocks = getattr(st, "st_blocks", None)
    return blocks * 512 if blocks is not None else st.st_size


def target_platform(choice: str) -> str:
    current = {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")
    if choice == "auto":
        return current
    if choice != current:
        raise SystemExit(f"--platform {choice}: PyInstaller cannot cross-build; run this on "
                         f"{choice} (this machine is {current}).")
    return choice


# ------------------------------------------------------------------ icons


def make_icons(out: Path) -> Path:
    """app.ico / app.icns from resources/icons/app-<size>.png, unless they are checked in."""
    out.mkdir(parents=True, exist_ok=True)
    pngs = {
        int(m.group(1)): p
        for p in ICONS_SRC.glob("app-*.png")
        if (m := re.fullmatch(r"app-(\d+)\.png", p.name))
    }
    for name, maker in (("app.ico", _ico), ("app.icns", _icns)):
        checked_in = ICONS_SRC / name
        if checked_in.is_file():
            shutil.copy2(checked_in, out / name)
        elif pngs:
            (out / name).write_bytes(maker(pngs))
        else:
            log(f"    warning: no {name} and no app-<size>.png in {ICONS_SRC}: building without")
    return out


def _ico(pngs: dict[int, Path]) -> bytes:
    """An ICO whose entries are PNGs (Windows Vista and later read those)."""
    chosen = sorted(s for s in pngs if s <= 256)
    images = [pngs[s].read_bytes() for s in chosen]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    directory = b""
    for size, data in zip(chosen, images, strict=True):
        edge = 0 if size >= 256 else size  # 0 means 256
        directory += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return header + directory + b"".join(images)


# icns element types holding PNG data: (type, pixel edge)
_ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("icp6", 64), ("ic07", 128), ("ic08", 256),
               ("ic09", 512), ("ic10", 1024), ("ic11", 32), ("ic12", 64), ("ic13", 256),
               ("ic14", 512))


def _icns(pngs: dict[int, Path]) -> bytes:
    body = b""
    for kind, edge in _ICNS_TYPES:
        if edge in pngs:
            data = pngs[edge].read_bytes()
            body += kind.encode("ascii") + struct.pack(">I", len(data) + 8) + data
    return b"icns" + struct.pack(">I", len(body) + 8) + body


# ------------------------------------------------------------------ PyInstaller


def pyinstaller(name: str, *, dist: Path, work: Path, icons: Path, entry: Path | None = None,
                trim: str = "all") -> None:
    env = dict(os.environ)
    env.update(KLING_SPEC_NAME=name, KLING_SPEC_TRIM=trim, KLING_SPEC_ICON_DIR=str(icons))
    if entry is not None:
        env["KLING_SPEC_ENTRY"] = str(entry)
    else:
        env.pop("KLING_SPEC_ENTRY", None)
    run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", dist, "--workpath", work, SPEC], env=env)


def frozen_executable(platform: str, dist: Path, name: str = NAME, *, console: bool = True) -> Path:
    if platform == "windows":
        return dist / name / (f"{name}-cli.exe" if console else f"{name}.exe")
    if platform == "macos":
        app = dist / (f"{APP_NAME}.app" if name == NAME else f"{name}.app")
        return app / "Contents" / "MacOS" / name
    return dist / name / name


def bundle_root(platform: str, dist: Path, name: str = NAME) -> Path:
    if platform == "macos":
        return dist / (f"{APP_NAME}.app" if name == NAME else f"{name}.app")
    return dist / name


def self_test(executable: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kling-build-selftest-") as data:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KLING_DATA_DIR=data)
        env.pop("KLING_API_KEY", None)
        run([executable, "--self-test"], env=env, timeout=SELF_TEST_TIMEOUT_S)


STARTUP_RUNS = 5
STARTUP_TIMEOUT_S = 60


def first_paint_ms(argv: list[str | Path], data: str) -> float:
    """Launch -> "first paint" (see kling_desktop.ui.app.FIRST_PAINT_PROBE_ENV), in ms."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KLING_DATA_DIR=data,
               KLING_FIRST_PAINT_PROBE="1", KLING_API_KEY="build-probe-not-a-key",
               KLING_BASE_URL="http://127.0.0.1:9")     # opens on the form; nothing is sent
    started = time.perf_counter()
    proc = subprocess.Popen([str(a) for a in argv], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    watchdog = threading.Timer(STARTUP_TIMEOUT_S, proc.kill)   # a window that never paints
    watchdog.start()
    painted = None
    try:
        for line in proc.stdout:
            if line.strip() == "first paint" and painted is None:
                painted = (time.perf_counter() - started) * 1000
        proc.wait(STARTUP_TIMEOUT_S)
    finally:
        watchdog.cancel()
    if painted is None:
        raise RuntimeError(f"{argv[0]} never painted its window (exit {proc.returncode})")
    return painted


def startup(executable: Path) -> tuple[float, float]:
    """Median first paint of the frozen app and of the same app run from source,
    launched alternately (one warm-up each, then STARTUP_RUNS each)."""
    source = [sys.executable, "-m", "kling_desktop"]
    compileall.compile_dir(str(ROOT / "kling_desktop"), quiet=1)   # as installed: bytecode
    frozen_runs: list[float] = []
    source_runs: list[float] = []
    with tempfile.TemporaryDirectory(prefix="kling-build-startup-") as data:
        first_paint_ms([executable], data)
        first_paint_ms(source, data)
        for _ in range(STARTUP_RUNS):
            frozen_runs.append(first_paint_ms([executable], data))
            source_runs.append(first_paint_ms(source, data))
    frozen_runs.sort()
    source_runs.sort()
    return frozen_runs[len(frozen_runs) // 2], source_runs[len(source_runs) // 2]


def check_linux_links(bundle: Path) -> tuple[list[str], set[Path]]:
    """ldd every ELF in the bundle: a missing Qt/FFmpeg/Python library is a trimming bug.

    Returns the missing *system* libraries (expected from the distribution, i.e. the
    .deb's Depends; not installed on this machine) and the system libraries found.
    """
    internal = bundle / "_internal"
    lib_dirs = [internal, internal / "PySide6" / "Qt" / "lib"]
    env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(str(d) for d in lib_dirs))
    bundled_names = {p.name for p in bundle.rglob("*") if p.is_file() or p.is_symlink()}
    missing_own: set[str] = set()
    missing_system: set[str] = set()
    resolved: dict[str, Path] = {}
    direct: set[str] = set()
    for path in sorted(bundle.rglob("*")):
        if path.is_symlink() or not path.is_file() or not _is_elf(path):
            continue
        out = subprocess.run(["ldd", str(path)], env=env, capture_output=True, text=True,
                             check=False).stdout
        for line in out.splitlines():
            name, _, where = line.strip().partition(" => ")
            if "not found" in where:
                own = (name in bundled_names or name.startswith(
                    ("libQt6", "libpyside6", "libshiboken6", "libav", "libsw", "libpython")))
                (missing_own if own else missing_system).add(f"{name} (needed by {path.name})")
            elif where.startswith("/"):
                resolved[name] = Path(where.split(" (")[0])
        dynamic = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True,
                                 text=True, check=False).stdout
        direct.update(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic))
    # System libraries the bundle links against directly (what the .deb must declare;
    # their own dependencies come with the packages).
    system = {resolved[name] for name in direct
              if name in resolved and name not in bundled_names}
    dangling = sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*")
                      if p.is_symlink() and not p.exists())
    if dangling:
        raise SystemExit("bundle has dangling symbolic links (trimmed targets):\n  "
                         + "\n  ".join(dangling))
    if missing_own:
        raise SystemExit("bundle is missing its own libraries (over-trimmed?):\n  "
                         + "\n  ".join(sorted(missing_own)))
    return sorted(missing_system), system


def undeclared_debian_packages(system_libs: set[Path]) -> list[str]:
    """Packages owning system libraries the bundle uses but the control file does not name.

    Only meaningful on Debian/Ubuntu build machines (dpkg -S); elsewhere returns [].
    """
    if shutil.which("dpkg-query") is None or not system_libs:
        return []
    control = (HERE / "linux" / "control").read_text(encoding="utf-8")
    declared: set[str] = set()
    for line in control.splitlines():
        if line.startswith(("Depends:", "Recommends:")):
            for alternative in re.split(r"[,|]", line.split(":", 1)[1]):
                declared.add(alternative.strip().split(" ")[0])
    owners: dict[str, set[str]] = {}
    for lib in sorted(system_libs):
        candidates = {str(lib), str(lib.resolve())}
        candidates |= {c.replace("/usr/lib/", "/lib/", 1) for c in candidates}
        candidates |= {c.replace("/lib/", "/usr/lib/", 1) for c in candidates
                       if c.startswith("/lib/")}
        for candidate in sorted(candidates):
            found = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True,
                                   text=True, check=False)
            if found.returncode == 0:
                package = found.stdout.split(":", 1)[0].strip()
                owners.setdefault(package, set()).add(lib.name)
                break
    implied = {"libc6", "libc6-dev"}  # the C library: versioned via @GLIBC@ already
    return sorted(f"{pkg} ({', '.join(sorted(libs))})" for pkg, libs in owners.items()
                  if pkg not in declared and pkg not in implied)


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def glibc_floor(bundle: Path) -> str | None:
    """Highest GLIBC_x.y symbol version any bundled ELF needs (-> the .deb's libc6 Depends)."""
    if shutil.which("objdump") is None:
        return None
    best: tuple[int, ...] = ()
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file() or not _is_elf(path):
            continue
        out = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True,
                             check=False).stdout
        for found in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", out):
            best = max(best, tuple(int(x) for x in found.split(".")))
    return ".".join(str(x) for x in best) if best else None


# ------------------------------------------------------------------ Linux packages


def linux_packages(bundle: Path, ver: str) -> list[Path]:
    desktop = (HERE / "linux" / "kling-desktop.desktop").read_text(encoding="utf-8")
    return [_tarball(bundle, ver, desktop), _deb(bundle, ver, desktop)]


def _tar_filter(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if info.isdir() or info.mode & 0o111:
        info.mode = 0o755
    else:
        info.mode = 0o644
    return info


def _tarball(bundle: Path, ver: str, desktop: str) -> Path:
    top = f"{NAME}-{ver}"
    out = DIST / f"{NAME}-{ver}-linux-x86_64.tar.gz"
    note = textwrap.dedent(f"""\
        {APP_NAME} {ver} for Linux (x86_64)

        Run it from this folder:        ./{NAME}
        Check that it works here:       ./{NAME} --self-test
        Try it without a key:           ./{NAME} --demo

        Add it to your applications menu (per user, no root needed):
            sed "s|/usr/bin/{NAME}|$PWD/{NAME}|g; s|^Icon=.*|Icon=$PWD/{NAME}.png|" \\
                {NAME}.desktop > ~/.local/share/applications/{NAME}.desktop

        On Debian/Ubuntu prefer the .deb (double-click it, or: sudo apt install ./file.deb):
        it also installs the system libraries Qt needs (libxcb-cursor0, libxkbcommon-x11-0,
        libegl1, libpulse0, libatomic1, ...). Missing ones show up in ./{NAME} --self-test
        or as "could not load the Qt platform plugin xcb".
        """)
    with tempfile.TemporaryDirectory() as tmp:
        extra = Path(tmp)
        (extra / "INSTALL.txt").write_text(note, encoding="utf-8")
        (extra / f"{NAME}.desktop").write_text(desktop, encoding="utf-8")
        with gzip.open(out, "wb", compresslevel=6) as gz, \
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(bundle, arcname=top, filter=_tar_filter)
            for item in sorted(extra.iterdir()):
                tar.add(item, arcname=f"{top}/{item.name}", filter=_tar_filter)
            tar.add(ICONS_SRC / "app-256.png", arcname=f"{top}/{NAME}.png", filter=_tar_filter)
    return out


def _deb(bundle: Path, ver: str, desktop: str) -> Path:
    linux = HERE / "linux"
    stage = BUILD / "deb" / "root"
    if stage.exists():
        shutil.rmtree(stage)
    opt = stage / "opt" / NAME
    shutil.copytree(bundle, opt, symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / NAME).symlink_to(f"/opt/{NAME}/{NAME}")
    apps = stage / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / f"{NAME}.desktop").write_text(desktop, encoding="utf-8")
    hicolor = stage / "usr" / "share" / "icons" / "hicolor"
    for png in ICONS_SRC.glob("app-*.png"):
        edge = png.stem.split("-")[1]
        target = hicolor / f"{edge}x{edge}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target / f"{NAME}.png")
    if (ICONS_SRC / "app.svg").is_file():
        scalable = hicolor / "scalable" / "apps"
        scalable.mkdir(parents=True)
        shutil.copy2(ICONS_SRC / "app.svg", scalable / f"{NAME}.svg")
    doc = stage / "usr" / "share" / "doc" / NAME
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        f"{APP_NAME}\nCopyright: the {APP_NAME} authors. All rights reserved (proprietary).\n"
        "Bundled third-party components (Qt, PySide6, FFmpeg, Python and others) keep their "
        "own licences; see /opt/kling-desktop/_internal.\n", encoding="utf-8")

    for path in stage.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_dir() or os.access(path, os.X_OK):
            path.chmod(0o755)
        else:
            path.chmod(0o644)

    debian = stage / "DEBIAN"
    debian.mkdir()
    glibc = glibc_floor(opt) or "2.31"
    installed_kib = int(size_mib(stage) * 1024) + 1
    control = (linux / "control").read_text(encoding="utf-8")
    for key, value in {"@VERSION@": ver, "@ARCH@": "amd64", "@INSTALLED_SIZE@": str(installed_kib),
                       "@GLIBC@": glibc}.items():
        control = control.replace(key, value)
    (debian / "control").write_text(control, encoding="utf-8")
    for script in ("postinst", "postrm"):
        source = linux / script
        if source.is_file():
            shutil.copy2(source, debian / script)
            (debian / script).chmod(0o755)
    log(f"    libc6 floor from the bundle's symbol versions: GLIBC {glibc}")

    out = DIST / f"{NAME}_{ver}_amd64.deb"
    # xz (dpkg's default) is ~4x slower here for ~15% less; gzip keeps CI within minutes.
    run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", stage, out])
    return out


# ------------------------------------------------------------------ Windows / macOS


def find_iscc() -> str | None:
    """Inno Setup's compiler: KLING_ISCC, then an Inno Setup 7, then PATH, then 6.

    7 first: it ships the Simplified Chinese wizard pages the script needs (6 has them
    only as an unofficial download, see windows/kling_desktop.iss).
    """
    if os.environ.get("KLING_ISCC"):
        return os.environ["KLING_ISCC"]
    bases = [os.environ.get("PROGRAMFILES"), os.environ.get("PROGRAMFILES(X86)"),
             str(Path(os.environ.get("LOCALAPPDATA") or "C:/") / "Programs")]
    folders = [Path(base) for base in bases if base]
    for version in ("7", "6"):
        for folder in folders:
            candidate = folder / f"Inno Setup {version}" / "ISCC.exe"
            if candidate.is_file():
                return str(candidate)
        if version == "7" and (on_path := shutil.which("iscc") or shutil.which("ISCC")):
            return on_path
    return None


def windows_installer(ver: str, icons: Path) -> list[Path]:
    iscc = find_iscc()
    if iscc is None:
        raise SystemExit("Inno Setup (ISCC.exe) not found: install Inno Setup 7 from "
                         "https://jrsoftware.org/isinfo.php, or set KLING_ISCC to its ISCC.exe")
    run([iscc, f"/DAppVersion={ver}", f"/DSourceDir={DIST / NAME}", f"/DOutputDir={DIST}",
         f"/DIconFile={icons / 'app.ico'}", HERE / "windows" / "kling_desktop.iss"])
    return sorted(DIST.glob(f"KlingMotionStudio-{ver}-setup.exe"))


_STRINGS_TOKEN = re.compile(r"""
    \s+ | /\*.*?\*/ | //[^\n]*                                  # space, comments
  | (?P<key>"(?:[^"\\]|\\.)*"|[A-Za-z0-9_.-]+) \s*=\s*
    (?P<value>"(?:[^"\\]|\\.)*") \s*;                          # "key" = "value";
""", re.VERBOSE | re.DOTALL)
_STRINGS_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


def parse_strings(text: str) -> dict[str, str]:
    """The entries of an Apple ``.strings`` file; ValueError where macOS would give up.

    macOS ignores a whole InfoPlist.strings it cannot parse, silently: the app would
    just keep its English name. So the build refuses one instead.
    """
    entries: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _STRINGS_TOKEN.match(text, position)
        if match is None:
            line = text.count("\n", 0, position) + 1
            raise ValueError(f"line {line}: not a \"key\" = \"value\"; entry or a comment")
        position = match.end()
        if match["key"] is None:
            continue
        key, value = (_unquote(match[group]) for group in ("key", "value"))
        if key in entries:
            raise ValueError(f"{key} is given twice")
        entries[key] = value
    return entries


def _unquote(token: str) -> str:
    if not token.startswith('"'):
        return token
    return re.sub(r"\\(.)", lambda m: _STRINGS_ESCAPES.get(m[1], m[0]), token[1:-1])


def localize_macos_app(app: Path) -> list[Path]:
    """Copy ``macos/<lang>.lproj/InfoPlist.strings`` into the app's Contents/Resources.

    Written as UTF-16 with a byte-order mark, the encoding Apple documents for strings
    files (Xcode converts the UTF-8 sources the same way). Info.plist's
    CFBundleLocalizations lists the same languages.
    """
    written = []
    for source in sorted((HERE / "macos").glob("*.lproj/InfoPlist.strings")):
        text = source.read_text(encoding="utf-8")
        try:
            entries = parse_strings(text)
        except ValueError as problem:
            raise SystemExit(f"{source.relative_to(ROOT)}: {problem}") from None
        if not entries.get("CFBundleDisplayName"):
            raise SystemExit(f"{source.relative_to(ROOT)}: no CFBundleDisplayName")
        target = app / "Contents" / "Resources" / source.parent.name / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
        written.append(target)
    return written


def reseal_macos_app(app: Path) -> None:
    """Sign the app's outer bundle again after files were added to Contents/Resources.

    PyInstaller signed it (ad hoc without KLING_CODESIGN_IDENTITY) before the .lproj
    folders were there; an unsealed file makes macOS call a downloaded app "damaged".
    The code inside keeps PyInstaller's signatures.
    """
    identity = os.environ.get("KLING_CODESIGN_IDENTITY") or "-"
    argv: list[str | Path] = ["codesign", "--force", "--sign", identity]
    if identity != "-":
        entitlements = (os.environ.get("KLING_ENTITLEMENTS")
                        or str(HERE / "macos" / "entitlements.plist"))
        argv += ["--options", "runtime", "--timestamp", "--entitlements", entitlements]
    run([*argv, app])
    run(["codesign", "--verify", "--deep", "--strict", app])


def macos_dmg(ver: str) -> list[Path]:
    app = DIST / f"{APP_NAME}.app"
    arch = "arm64" if platform_module.machine() == "arm64" else "x86_64"
    out = DIST / f"KlingMotionStudio-{ver}-macos-{arch}.dmg"
    run(["bash", HERE / "macos" / "make_dmg.sh", app, out, APP_NAME])
    return [out]


# ------------------------------------------------------------------ checksums


def write_checksums(files: list[Path], out: Path) -> Path:
    """``out`` listing the SHA-256 of ``files`` (which sit next to it), as ``sha256sum`` does.

    One ``<hex>  <name>`` line per file, sorted by name, LF line ends on every OS,
    so ``sha256sum --check SHA256SUMS`` works in that folder. Written atomically.
    """
    lines = []
    for path in sorted(files, key=lambda p: p.name):
        if path.resolve().parent != out.resolve().parent:
            raise ValueError(f"{path} is not next to {out}")
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        lines.append(f"{digest}  {path.name}\n")
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes("".join(lines).encode("ascii"))
    os.replace(tmp, out)
    return out


# ------------------------------------------------------------------ floor and measurements

FLOOR_APP = '''\
"""Floor: the smallest PySide6 Widgets + Multimedia window, frozen like the app."""
import sys

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv)
window = QMainWindow()
video = QVideoWidget()
window.setCentralWidget(video)
player = QMediaPlayer()
audio = QAudioOutput()
player.setAudioOutput(audio)
player.setVideoOutput(video)
clips = [a for a in sys.argv[1:] if not a.startswith("--")]
if clips:
    player.setSource(QUrl.fromLocalFile(clips[0]))
window.show()
if "--smoke" in sys.argv:
    player.durationChanged.connect(lambda ms: print(f"floor: clip {ms} ms", flush=True))
    QTimer.singleShot(1500, app.quit)
sys.exit(app.exec())
'''


def build_floor(platform: str, icons: Path) -> float:
    work = BUILD / "floor"
    work.mkdir(parents=True, exist_ok=True)
    entry = work / "floor_app.py"
    entry.write_text(FLOOR_APP, encoding="utf-8")
    dist = DIST / "floor"
    pyinstaller("floor", dist=dist, work=work / "pyinstaller", icons=icons, entry=entry)
    exe = frozen_executable(platform, dist, "floor", console=False)
    if platform == "windows":
        exe = dist / "floor" / "floor.exe"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    run([exe, "--smoke", ROOT / "resources" / "samples" / "motion.mp4"], env=env, timeout=120)
    return size_mib(bundle_root(platform, dist, "floor"))


def measure(platform: str, icons: Path) -> dict[str, float]:
    """Bundle size with every group, with none, and with each group left out in turn."""
    variants = {"all": "all", "none": "none"}
    for group in TRIM_GROUPS:
        variants[f"all-but-{group}"] = ",".join(g for g in TRIM_GROUPS if g != group)
    result: dict[str, float] = {}
    for label, trim in variants.items():
        dist = BUILD / "measure" / label / "dist"
        pyinstaller(NAME, dist=dist, work=BUILD / "measure" / label / "work", icons=icons,
                    trim=trim)
        result[label] = size_mib(bundle_root(platform, dist))
        log(f"    {label:<28} {result[label]:8.1f} MiB")
    log("\n    trimming group          saves (MiB, left out of 'all')")
    for group in TRIM_GROUPS:
        log(f"    {group:<24}{result[f'all-but-{group}'] - result['all']:8.1f}")
    log(f"    {'everything':<24}{result['none'] - result['all']:8.1f}")
    return result


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", choices=["auto", "linux", "windows", "macos"],
                        default="auto")
    parser.add_argument("--skip-self-test", action="store_true")
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--no-installers", action="store_true")
    args = parser.parse_args(argv)

    platform = target_platform(args.platform)
    ver = version()
    started = time.monotonic()
    log(f"{APP_NAME} {ver}: building for {platform} with Python {sys.version.split()[0]}")

    with step("icons"):
        icons = make_icons(BUILD / "icons")

    with step("PyInstaller (app)"):
        pyinstaller(NAME, dist=DIST, work=BUILD / "pyinstaller", icons=icons)
    bundle = bundle_root(platform, DIST)
    if platform == "macos":
        with step("macOS localisations (InfoPlist.strings)"):
            for written in localize_macos_app(bundle):
                log(f"    {written.relative_to(DIST)}")
            reseal_macos_app(bundle)
    sizes["bundle"] = size_mib(bundle)
    log(f"    bundle {bundle}: {sizes['bundle']:.1f} MiB")

    if platform == "linux":
        with step("library check (ldd)"):
            absent, system_libs = check_linux_links(bundle)
            for line in absent:
                log(f"    system library not installed on this machine: {line}")
            for line in undeclared_debian_packages(system_libs):
                log(f"    warning: the .deb does not declare {line}; add it to "
                    "packaging/linux/control if users can lack it")

    if not args.skip_self_test:
        with step("frozen self-test"):
            self_test(frozen_executable(platform, DIST))

        with step("start-up (frozen, source)"):
            frozen_ms, source_ms = startup(frozen_executable(platform, DIST))
            sizes["startup_frozen_ms"], sizes["startup_source_ms"] = frozen_ms, source_ms
            log(f"    launch -> first paint, median of {STARTUP_RUNS}: frozen {frozen_ms:.0f} ms, "
                f"from source {source_ms:.0f} ms ({frozen_ms / source_ms:.2f}x)")

    outputs: list[Path] = []
    if not args.no_installers:
        with step("installers"):
            (DIST / "SHA256SUMS").unlink(missing_ok=True)   # never one of an older build
            if platform == "linux":
                outputs = linux_packages(bundle, ver)
            elif platform == "windows":
                outputs = windows_installer(ver, icons)
            else:
                outputs = macos_dmg(ver)
            if outputs:
                sums = write_checksums(outputs, DIST / "SHA256SUMS")
                log(f"    {sums.relative_to(ROOT)}:")
                for line in sums.read_text(encoding="ascii").splitlines():
                    log(f"      {line}")

    if args.floor:
        with step("PyInstaller (floor)"):
            sizes["floor"] = build_floor(platform, icons)
    if args.measure:
        with step("trimming measurements"):
            for label, value in measure(platform, icons).items():
                sizes[f"measure:{label}"] = value

    log("\n==> summary")
    for title, spent in timings:
        log(f"    {title:<28}{spent:7.1f} s")
    log(f"    {'total':<28}{time.monotonic() - started:7.1f} s")
    log(f"    bundle {sizes['bundle']:.1f} MiB" + (
        f"; floor {sizes['floor']:.1f} MiB (app adds {sizes['bundle'] - sizes['floor']:.1f})"
        if "floor" in sizes else ""))
    for out in outputs:
        log(f"    {out.relative_to(ROOT)}  {out.stat().st_size / 2**20:.1f} MiB")
    BUILD.mkdir(exist_ok=True)
    (BUILD / "sizes.json").write_text(json.dumps(
        {"version": ver, "platform": platform, "sizes_mib": sizes,
         "timings_s": dict(timings),
         "outputs": {o.name: o.stat().st_size for o in outputs}}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except subprocess.CalledProcessError as failure:
        log(f"\nbuild FAILED: {Path(str(failure.cmd[0])).name} exited with {failure.returncode}")
        raise SystemExit(1) from None
    except subprocess.TimeoutExpired as failure:
        log(f"\nbuild FAILED: {failure.cmd[0]} did not finish within {failure.timeout:.0f} s")
        raise SystemExit(1) from None
