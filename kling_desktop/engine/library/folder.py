"""The library folder's actions: add a result, export, move to the trash, mark.

Each ``<name>.mp4`` gets a ``<name>.json`` sidecar next to it (:mod:`.sidecar`);
local inputs are copied once into ``.inputs/`` (named by content hash, so one
clip used with many characters is stored once). Export and trash act only on
regular files inside the library; every change keeps the index in step.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePath
from typing import Final
from urllib.parse import unquote, urlsplit

from kling_desktop import __version__
from kling_desktop.api.models import Mode, Model
from kling_desktop.engine.jobs import Job
from kling_desktop.engine.library.index import LibraryIndex, file_size
from kling_desktop.engine.library.sidecar import (
    VIDEO_SUFFIXES,
    InputRef,
    LibraryEntry,
    entry_from_json,
    entry_from_text,
    read_sidecar,
    usage_from_text,
    write_sidecar,
)
from kling_desktop.engine.store import MARKS, ResultRecord
from kling_desktop.errors import KlingError
from kling_desktop.files import (
    CHUNK,
    CopyCancelledError,
    NotARegularFileError,
    copy_file,
    is_inside,
    open_regular,
    partial_path,
    regular_file,
    reserve_download,
    safe_filename,
    write_stream,
)
from kling_desktop.i18n import N_, _
from kling_desktop.sources import display_name, is_link, strip_credentials, title_for

__all__ = [
    "INPUTS_DIR",
    "ExportCancelled",
    "ExportReport",
    "Library",
    "LibraryWriteError",
]

log = logging.getLogger(__name__)

INPUTS_DIR: Final = ".inputs"
CONVERTED_DIR: Final = "converted"   # trimmed/converted inputs, for the window and --fix


def converted_dir(library_root: Path) -> Path:
    """``<library>/.inputs/converted/``: where the window and ``generate --fix`` put the
    inputs they trimmed or converted (next to the kept ones)."""
    return library_root / INPUTS_DIR / CONVERTED_DIR
# A file name is the same in every language: the model and quality in fixed English
# words (never Model.label / Mode.label, which are the user's language).
_FILE_MODEL: Final = {Model.V3: "Kling V3", Model.V2_6: "Kling V2.6"}
_FILE_MODE: Final = {Mode.STD: "Standard", Mode.PRO: "Pro"}
_FILE_UNTITLED: Final = "Untitled"


class LibraryWriteError(KlingError):
    """The library folder could not be written (disk full, read-only, no permission)."""

    default_message = N_("The video's description could not be saved in the library folder.")
    default_fix = N_("Check that the library folder exists and that your account may write "
                     "to it.")

    @classmethod
    def from_os_error(cls, exc: OSError, path: Path) -> LibraryWriteError:
        if exc.errno == errno.ENOSPC:
            return cls(_("The disk holding the library is full ({folder}).").format(
                           folder=path.parent),
                       fix=_("Free some disk space, then retry the download."))
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return cls(_("The library folder cannot be written to ({folder}).").format(
                           folder=path.parent),
                       fix=_("Choose another library folder in Settings, or fix its "
                             "permissions."))
        return cls(_("The library folder could not be written ({reason}).").format(
            reason=exc.strerror or exc))


class ExportCancelled(KlingError):
    default_message = N_("The export was stopped.")
    default_fix = N_("The files copied so far are complete; start the export again to copy "
                     "the rest.")


@dataclass
class ExportReport:
    videos: list[Path] = field(default_factory=list)      # the copies made in the folder
    sidecars: list[Path] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)      # kept inputs copied (once each)
    without_description: list[Path] = field(default_factory=list)  # sidecar unusable: video only
    bytes_copied: int = 0
    refused: list[Path] = field(default_factory=list)     # not a plain file inside the library


class Library(LibraryIndex):
    """The library folder at ``root``; keeps ``store``'s results index in step when given.

    Every file in the folder is treated as hostile (it may be on a shared
    drive). Only regular files count: a link named like a video or sidecar is
    not followed, and neither is a link to a folder (even one pointing inside:
    skipping links is the one rule that needs no judgement); pipes, sockets and
    devices are never opened. Export and trash only act on regular files
    inside the library.
    """

    # -- naming --------------------------------------------------------------

    def target_path(self, job: Job) -> Path:
        """Where the result of ``job`` goes: a readable, unique, portable file name.

        ``2026-11-25 14-03 hero — waves both arms… (Kling V3 Pro).mp4``: the date, the
        job's human title (:attr:`JobSpec.title`: never a task id or a hash) and its
        model and quality, in the same words whatever the user's language. The name is
        claimed (see :meth:`claim_target`, which also records it) and returned unchanged
        when ``job.output_path`` is already set.
        """
        return self.claim_target(job, lambda _path: None)

    def claim_target(self, job: Job, record: Callable[[Path], object], *,
                     claimed: Callable[[Path], bool] = lambda _path: False) -> Path:
        """:meth:`target_path`, claimed so that a process killed at any moment leaves
        nothing behind: each free name is first recorded (``record``: the job's
        ``output_path``, durably), then claimed on disk by creating its partial download
        file exclusively. Jobs with the same title finish at the same minute: the name
        is claimed when it is given, not when the file appears. A process killed between
        the two steps resumes into the recorded name (the download creates the partial);
        one killed after them resumes its partial. ``claimed(path)``: the name is
        recorded for another job (one whose process died before claiming it on disk).
        """
        if job.output_path:
            return Path(job.output_path)
        moment = datetime.fromtimestamp(job.completed_at or job.submitted_at or time.time())
        options = job.spec.options
        model = _FILE_MODEL[Model(options.model)]
        mode = _FILE_MODE[Mode(options.mode)]
        spec = job.spec
        title = safe_filename(title_for(display_name(spec.image), display_name(spec.video),
                                        options.prompt, untitled=_FILE_UNTITLED),
                              max_bytes=120)
        stem = safe_filename(f"{moment:%Y-%m-%d %H-%M} {title} ({model} {mode})",
                             max_bytes=170)
        counter = 1
        while True:
            candidate = self.root / (f"{stem}.mp4" if counter == 1 else f"{stem} ({counter}).mp4")
            counter += 1
            if (candidate.exists() or candidate.with_suffix(".json").exists()
                    or partial_path(candidate).exists() or claimed(candidate)):
                continue
            record(candidate)
            if reserve_download(candidate):
                return candidate

    # -- adding --------------------------------------------------------------

    def add_result(
        self,
        job: Job,
        video: Path,
        *,
        inputs_dir_name: str = INPUTS_DIR,
        copy_inputs: bool = True,
        duration: float | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> LibraryEntry:
        """Record ``video`` (already inside the root) as the result of ``job``.

        Writes ``<stem>.json`` next to it atomically, copies local inputs into
        ``<root>/<inputs_dir_name>/`` (once per content) and updates the index.
        ``duration`` defaults to the saved video's measured length
        (``job.result_duration``), else to the job's billable seconds (the clip's
        length). The sidecar also keeps the model the provider says it used
        next to the one asked for, and what it reported it charged.
        """
        video = Path(video)
        try:
            video_rel = self.relative(video)
        except ValueError:
            raise ValueError(f"{video} is not inside the library folder {self.root}") from None
        spec = job.spec
        if duration is None:
            duration = (job.result_duration if job.result_duration is not None
                        else spec.billable_seconds)
        inputs_dir = self.root / inputs_dir_name
        image_ref = replace(self._input_ref(spec.image, inputs_dir, copy_inputs),
                            origin=spec.image_origin)
        video_ref = replace(self._input_ref(spec.video, inputs_dir, copy_inputs),
                            origin=spec.video_origin)
        entry = LibraryEntry(
            video_path=video,
            sidecar_path=video.with_suffix(".json"),
            task_id=job.task_id,
            job_id=job.id,
            model=str(spec.options.model),
            mode=str(spec.options.mode),
            prompt=spec.options.prompt,
            orientation=str(spec.options.orientation),
            keep_original_sound=spec.options.keep_original_sound,
            image=image_ref,
            video=video_ref,
            created_at=job.created_at,
            submitted_at=job.submitted_at,
            completed_at=job.completed_at,
            saved_at=time.time(),
            base_url=strip_credentials(job.base_url),
            demo=job.demo,
            billable_seconds=_usable_seconds(spec.billable_seconds),
            file_size=video.stat().st_size,
            duration=_usable_seconds(duration),
            width=width,
            height=height,
            batch_id=spec.batch_id,
            app_version=__version__,
            model_used=job.model_used,
            provider_usage=usage_from_text(job.provider_usage),
        )
        # exactly what the sidecar holds (times rounded to milliseconds)
        entry = entry_from_json(entry.to_json(), entry.sidecar_path)
        try:
            write_sidecar(entry)
        except OSError as exc:
            raise LibraryWriteError.from_os_error(exc, entry.sidecar_path) from exc
        if self.store is not None:
            self.store.upsert_result(self._record(entry, video_rel))
        log.info("library: saved %s", video.name)
        return entry

    def _input_ref(self, source: str, inputs_dir: Path, copy: bool) -> InputRef:
        if is_link(source):
            return InputRef(name=_input_name(source), url=strip_credentials(source))
        path = Path(source).expanduser()
        if not copy:
            return InputRef(name=path.name)
        try:
            digest = _sha256(path)
            target = inputs_dir / f"{digest[:16]}{path.suffix.lower()}"
            kept = regular_file(target)
            if kept is None or kept.st_size != os.stat(path).st_size:
                inputs_dir.mkdir(parents=True, exist_ok=True)
                with open_regular(path, follow_links=True) as src:
                    write_stream(src, target)
        except OSError as exc:
            # The result itself is what matters; a missing input copy is noted, not fatal.
            log.warning("library: could not keep a copy of %s: %s", path.name, exc)
            return InputRef(name=path.name)
        return InputRef(name=path.name, copy=self.relative(target), sha256=digest)

    def entry_from_record(self, record: ResultRecord) -> LibraryEntry | None:
        """The entry an index row describes (no disk access); None for an unusable sidecar."""
        if not record.sidecar_ok or not record.sidecar_json or not record.sidecar_rel:
            return None
        entry = entry_from_text(record.sidecar_json, self.path_of(record.sidecar_rel))
        if entry is None:
            return None
        return replace(entry, file_size=record.file_size or entry.file_size)

    def input_path(self, ref: InputRef, *, must_exist: bool = True) -> Path | None:
        """The kept copy of an input inside the library, if there is one (and it exists).

        A sidecar naming a path outside the library (hand-edited) gets None; so
        does, with ``must_exist``, anything but a regular file really inside the
        library (a link out of it, a pipe). ``must_exist=False`` only checks the
        name (no disk access).
        """
        if not ref.copy:
            return None
        rel = Path(ref.copy)
        if rel.is_absolute() or rel.drive or ".." in rel.parts or not rel.parts:
            return None
        path = self.root / rel
        return path if not must_exist or self.is_library_file(path) else None

    def reuse_path(self, ref: InputRef) -> Path | None:
        """The kept copy of an input under its original name, for "use these settings again".

        Kept copies are named by their content (``.inputs/04a1e7221aeeda68.png``); a job
        made from one would be called by that hash on its card, its title and its file
        name. This gives the same bytes as ``.inputs/named/<hash>/hero.png``: a hard link
        to the kept copy (no second copy on disk), or a copy where links are not
        possible. None when no copy was kept (or it is not a plain file in the library).
        """
        kept = self.input_path(ref)
        if kept is None:
            return None
        stem = Path(PurePath(ref.name.replace("\\", "/")).name).stem
        name = safe_filename(stem, max_bytes=120) + kept.suffix
        target = self.root / INPUTS_DIR / "named" / kept.stem / name
        try:
            if regular_file(target) is not None and target.stat().st_size == kept.stat().st_size:
                return target
            target.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            try:
                os.link(kept, target)
            except OSError:   # no links on this drive, or not ours to link: a copy
                copy_file(kept, target)
        except OSError as exc:
            log.warning("library: could not name a kept input %s: %s", ref.name, exc)
            return kept
        return target

    # -- export, trash, mark ---------------------------------------------------

    def export_results(
        self,
        entries: Sequence[LibraryEntry | Path],
        folder: Path,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ExportReport:
        """Copy results (video + sidecar + kept inputs) into ``folder``, as a small library.

        ``entries`` are library entries, or bare video paths for results whose
        sidecar is unusable (those are copied without a description). Nothing in
        ``folder`` is overwritten: clashing names get `` (2)``. Sidecars are written
        fresh from the entry (known fields only, credentials stripped from the
        provider address), so nothing secret can ride along. ``progress(done,
        total)`` counts bytes; ``cancel`` stops between chunks.

        Only regular files inside the library are copied: a video that is a link
        (``x.mp4 -> /etc/passwd``), a pipe or a path outside the library is left
        out and listed in :attr:`ExportReport.refused`; so are kept inputs that
        are not (they are simply not copied).
        """
        folder = Path(folder)
        report = ExportReport()
        plan: list[tuple[Path, LibraryEntry | None]] = []
        for item in entries:
            video, entry = ((item.video_path, item) if isinstance(item, LibraryEntry)
                            else (Path(item), None))
            if self.is_library_file(video):
                plan.append((video, entry))
            else:
                log.warning("library: not exporting %s: not a plain file inside the library",
                            video)
                report.refused.append(video)
        inputs: dict[Path, Path] = {}
        for _video, entry in plan:
            if entry is None:
                continue
            for ref in (entry.image, entry.video):
                source = self.input_path(ref)
                if source is not None and ref.copy:
                    inputs.setdefault(source, folder / Path(ref.copy))
        total = (sum(file_size(video, 0) for video, _ in plan)
                 + sum(file_size(path, 0) for path in inputs))

        def step(count: int) -> None:
            report.bytes_copied += count
            if progress is not None:
                progress(report.bytes_copied, total)

        try:
            folder.mkdir(parents=True, exist_ok=True)
            for source, dest in inputs.items():
                if dest.is_file() and dest.stat().st_size == file_size(source, -1):
                    step(dest.stat().st_size)   # same content name, same size: already there
                    continue
                with contextlib.suppress(NotARegularFileError):   # swapped since checked
                    report.inputs.append(copy_file(source, dest, cancel=cancel, progress=step))
            for video, entry in plan:
                dest = _unique_path(folder / video.name)
                try:
                    copy_file(video, dest, cancel=cancel, progress=step)
                except NotARegularFileError:       # swapped since checked
                    report.refused.append(video)
                    continue
                report.videos.append(dest)
                if entry is None:
                    report.without_description.append(dest)
                    continue
                fresh = replace(entry, video_path=dest, sidecar_path=dest.with_suffix(".json"))
                write_sidecar(fresh)
                report.sidecars.append(fresh.sidecar_path)
        except CopyCancelledError as exc:
            raise ExportCancelled() from exc
        except OSError as exc:
            raise LibraryWriteError.from_os_error(exc, folder / "x") from exc
        log.info("library: exported %d results to %s", len(report.videos), folder)
        return report

    def delete_result(self, target: LibraryEntry | Path, trash: Callable[[Path], bool]) -> None:
        """Move a result (video, then its sidecar) out of the library with ``trash(path)``.

        ``trash`` returns True when the file went to the system trash (the window
        passes Qt's ``QFile.moveToTrash``; this module never deletes for good).
        Kept inputs stay: other results may share them. The index row goes as soon
        as the video is gone. Raises :class:`LibraryWriteError` when a file stays,
        and, without calling ``trash`` at all, for a path outside the library or
        one that is not a regular file (a link, a pipe: removed by hand, if at all).
        """
        if isinstance(target, LibraryEntry):
            video, sidecar = target.video_path, target.sidecar_path
        else:
            video, sidecar = Path(target), Path(target).with_suffix(".json")
        for path in (video, sidecar):
            if not os.path.lexists(path):
                continue
            if not is_inside(path, self.root):
                raise LibraryWriteError(
                    _("{name} is not inside the library folder; it was left alone.").format(
                        name=path.name),
                    fix=_("Only results inside the library folder can be moved to the trash "
                          "here."))
            if regular_file(path) is None:
                raise LibraryWriteError(
                    _("{name} is not a plain file (a link or a special file); it was left "
                      "alone.").format(name=path.name),
                    fix=_("Remove it in your file manager if you do not want it there."))
        if regular_file(video) is not None and not trash(video):
            raise LibraryWriteError(
                _("{name} could not be moved to the trash.").format(name=video.name),
                fix=_("Check that the file is not open in another program and that the "
                      "library folder may be written, then try again."))
        if self.store is not None:
            with contextlib.suppress(ValueError):
                self.store.remove_result(self.relative(video))
        if regular_file(sidecar) is not None and not trash(sidecar):
            raise LibraryWriteError(
                _("The video went to the trash, but its description {name} stayed.").format(
                    name=sidecar.name),
                fix=_("Delete the .json file by hand; it is no longer listed."))
        log.info("library: moved %s to the trash", video.name)

    def set_mark(self, entry: LibraryEntry, mark: str | None) -> LibraryEntry:
        """Mark a result as a keeper or a reject (or neither), in its sidecar and the index."""
        if mark not in (None, *MARKS):
            raise ValueError(f"mark must be one of {MARKS} or None")
        if not is_inside(entry.sidecar_path, self.root):
            raise ValueError(f"{entry.sidecar_path} is not inside the library folder {self.root}")
        current = read_sidecar(entry.sidecar_path)
        updated = replace(current, mark=mark)
        try:
            write_sidecar(updated)
        except OSError as exc:
            raise LibraryWriteError.from_os_error(exc, updated.sidecar_path) from exc
        if self.store is not None:
            self.store.set_result_mark(self.relative(updated.video_path), mark)
        return updated


def _unique_path(path: Path) -> Path:
    """``path``, or ``name (2).ext``, ``name (3).ext`` ... when it (or its sidecar) exists."""
    candidate = path
    counter = 2
    while candidate.exists() or (candidate.suffix.lower() in VIDEO_SUFFIXES
                                 and candidate.with_suffix(".json").exists()):
        candidate = path.with_name(f"{path.stem} ({counter}){path.suffix}")
        counter += 1
    return candidate


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path, follow_links=True) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _usable_seconds(value: float | None) -> float | None:
    """A length in seconds fit for a sidecar: finite and not negative, else unknown."""
    if value is None or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _input_name(source: str) -> str:
    if is_link(source):
        try:
            path = urlsplit(source).path
        except ValueError:
            return source
        name = unquote(path.rsplit("/", 1)[-1])
        return name or source
    return Path(source).name


