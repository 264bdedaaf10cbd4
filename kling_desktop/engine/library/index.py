"""The library index: walking the folder and keeping the store's ``results`` table in step.

The folder is the truth; the index only mirrors it. :meth:`LibraryIndex.rebuild_index`
recreates it from the sidecars at any time, :meth:`~LibraryIndex.sync_index` and
:meth:`~LibraryIndex.sync_changes` bring it up to date. Only regular files count:
links, pipes and devices named like videos are skipped, never followed or opened,
and every walk ends.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from kling_desktop.engine.library.sidecar import (
    VIDEO_SUFFIXES,
    LibraryEntry,
    SidecarError,
    read_sidecar,
)
from kling_desktop.engine.store import JobStore, ResultRecord
from kling_desktop.files import FoundFile, is_inside, regular_file, walk_files

__all__ = ["LibraryIndex", "RebuildReport", "SyncReport", "file_size"]

log = logging.getLogger(__name__)


@dataclass
class RebuildReport:
    indexed: int = 0
    unreadable: list[Path] = field(default_factory=list)   # sidecars that could not be read
    orphans: list[Path] = field(default_factory=list)      # videos without a sidecar
    missing_videos: list[Path] = field(default_factory=list)  # sidecars whose video is gone
    skipped: list[Path] = field(default_factory=list)   # video names that are not plain files


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0
    unreadable: list[Path] = field(default_factory=list)


class LibraryIndex:
    """The library folder at ``root`` as the store's results index sees it (``store`` may be None).

    Every file in the folder is treated as hostile (it may be on a shared
    drive): rebuild and sync always finish; a sidecar that cannot be used makes
    its video an "unreadable sidecar" row.
    """

    def __init__(self, root: Path, store: JobStore | None = None) -> None:
        self.root = Path(root)
        self.store = store

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, with forward slashes (as stored in the index)."""
        if ".." not in path.parts:
            with contextlib.suppress(ValueError):
                return path.relative_to(self.root).as_posix()
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def path_of(self, rel: str) -> Path:
        """The absolute path of an index path (``ResultRecord.video_rel``)."""
        return self.root / Path(rel)

    def is_library_file(self, path: Path) -> bool:
        """True when ``path`` is a regular file (not a link) whose real place is in the library."""
        return regular_file(path) is not None and is_inside(path, self.root)

    # -- reading -------------------------------------------------------------

    def _walk(self) -> Iterator[FoundFile]:
        """Every name under the root that is not a folder, skipping hidden ones (``.inputs``).

        Links to folders are not followed and the walk always ends (see
        :func:`~kling_desktop.files.walk_files`).
        """
        return walk_files(self.root)

    def _on_disk(self) -> tuple[list[Path], list[Path], list[Path]]:
        """``(sidecars, videos, skipped)``: every ``.json`` name whatever it is (reading
        refuses what is not a regular file), the regular video files, and video names
        that are not regular files (links, pipes: never results)."""
        sidecars: list[Path] = []
        videos: list[Path] = []
        skipped: list[Path] = []
        for found in self._walk():
            suffix = found.path.suffix.lower()
            if suffix == ".json":
                sidecars.append(found.path)
            elif suffix in VIDEO_SUFFIXES:
                (videos if found.regular else skipped).append(found.path)
        return sidecars, videos, skipped

    def _record(self, entry: LibraryEntry, video_rel: str | None = None) -> ResultRecord:
        return ResultRecord(
            video_rel=video_rel or self.relative(entry.video_path),
            sidecar_rel=self.relative(entry.sidecar_path),
            task_id=entry.task_id,
            job_id=entry.job_id,
            model=entry.model,
            mode=entry.mode,
            orientation=entry.orientation,
            prompt=entry.prompt,
            keep_original_sound=entry.keep_original_sound,
            created_at=entry.created_at,
            completed_at=entry.completed_at,
            saved_at=entry.saved_at,
            duration=entry.duration,
            width=entry.width,
            height=entry.height,
            file_size=file_size(entry.video_path, entry.file_size),
            demo=entry.demo,
            mark=entry.mark,
            sidecar_ok=True,
            sidecar_json=json.dumps(entry.to_json(), ensure_ascii=False),
        )

    def _bare_record(self, video: Path, sidecar: Path | None = None) -> ResultRecord:
        """What a video without a usable sidecar tells by itself."""
        info = regular_file(video)
        size, mtime = (info.st_size, info.st_mtime) if info is not None else (0, None)
        return ResultRecord(
            video_rel=self.relative(video),
            sidecar_rel=self.relative(sidecar) if sidecar is not None else None,
            created_at=mtime,
            saved_at=mtime,
            file_size=size,
            sidecar_ok=False,
        )

    def _collect(
        self, progress: Callable[[int, int], None] | None = None
    ) -> tuple[list[ResultRecord], RebuildReport]:
        sidecars, videos, skipped = self._on_disk()
        report = RebuildReport(skipped=skipped)
        for path in skipped:
            log.warning("library: %s is not a plain file; not listed", path.name)
        records: dict[str, ResultRecord] = {}
        total = len(sidecars) + len(videos)
        done = 0
        for sidecar in sidecars:
            try:
                entry = read_sidecar(sidecar)
            except SidecarError as exc:
                log.warning("library: %s", exc.message)
                report.unreadable.append(sidecar)
                video = _video_for(sidecar)
                if video is not None:
                    records[self.relative(video)] = self._bare_record(video, sidecar)
            else:
                if regular_file(entry.video_path) is not None:
                    record = self._record(entry)
                    records[record.video_rel] = record
                else:
                    report.missing_videos.append(entry.video_path)
            done += 1
            if progress is not None:
                progress(done, total)
        for video in videos:
            rel = self.relative(video)
            if rel not in records:
                records[rel] = self._bare_record(video)
                report.orphans.append(video)
            done += 1
            if progress is not None:
                progress(done, total)
        report.indexed = len(records)
        return list(records.values()), report

    def entries(self) -> list[LibraryEntry]:
        """Every readable sidecar whose video exists, read from disk (no index needed)."""
        result: list[LibraryEntry] = []
        for sidecar in self._on_disk()[0]:
            try:
                entry = read_sidecar(sidecar)
            except SidecarError:
                continue
            if regular_file(entry.video_path) is not None:
                result.append(entry)
        return result

    # -- index ---------------------------------------------------------------

    def rebuild_index(
        self, progress: Callable[[int, int], None] | None = None
    ) -> RebuildReport:
        """Recreate the store's results index from the folder (one transaction)."""
        records, report = self._collect(progress)
        if self.store is not None:
            self.store.replace_results(records)
        log.info("library: index rebuilt: %d videos, %d unreadable sidecars, %d without sidecar",
                 report.indexed, len(report.unreadable), len(report.orphans))
        return report

    def sync_index(self) -> SyncReport:
        """Bring the index up to date: add new videos/sidecars, drop rows whose video vanished."""
        report = SyncReport()
        if self.store is None:
            return report
        records, collected = self._collect()
        report.unreadable = collected.unreadable
        on_disk = {record.video_rel: record for record in records}
        for row in self.store.list_results():
            if row.video_rel not in on_disk:
                self.store.remove_result(row.video_rel)
                report.removed += 1
        for rel, record in on_disk.items():
            current = self.store.get_result(rel)
            if current is None or _changed(current, record):
                self.store.upsert_result(_keep_mark(current, record))
                report.added += current is None
        return report

    def folder_state(self) -> dict[str, tuple[int, int]]:
        """Every video and sidecar under the root: relative path -> (mtime in ns, size).

        Only directory listings and ``lstat`` calls: cheap enough to take after every
        change notification, even for 10,000 results. Only regular files count.
        """
        state: dict[str, tuple[int, int]] = {}
        for found in self._walk():
            suffix = found.path.suffix.lower()
            if (suffix != ".json" and suffix not in VIDEO_SUFFIXES) or not found.regular:
                continue
            info = found.lstat()
            if info is None:
                continue
            state[self.relative(found.path)] = (info.st_mtime_ns, info.st_size)
        return state

    def sync_changes(
        self, before: Mapping[str, tuple[int, int]]
    ) -> tuple[dict[str, tuple[int, int]], SyncReport, list[str]]:
        """Bring the index up to date for what changed since ``before`` (a :meth:`folder_state`).

        Reads only the sidecars that were added, changed or removed. Returns the new
        state, what happened, and the ``video_rel`` of every row looked at. A sidecar
        naming a video with another stem is only caught by :meth:`sync_index`.
        """
        after = self.folder_state()
        report = SyncReport()
        changed = {rel for rel in before.keys() | after.keys() if before.get(rel) != after.get(rel)}
        videos: set[str] = set()
        by_stem: dict[str, list[str]] | None = None
        for rel in changed:
            if Path(rel).suffix.lower() != ".json":
                videos.add(rel)
                continue
            if by_stem is None:
                by_stem = {}
                for other in {*after, *before}:
                    if Path(other).suffix.lower() in VIDEO_SUFFIXES:
                        by_stem.setdefault(Path(other).with_suffix("").as_posix(),
                                           []).append(other)
            videos.update(by_stem.get(Path(rel).with_suffix("").as_posix(), ()))
        if self.store is None:
            return after, report, sorted(videos)
        for rel in sorted(videos):
            video = self.path_of(rel)
            if not self.is_library_file(video):
                report.removed += self.store.remove_result(rel)
                continue
            sidecar = video.with_suffix(".json")
            record: ResultRecord
            if os.path.lexists(sidecar):   # whatever it is: reading refuses what is not a file
                try:
                    entry = read_sidecar(sidecar)
                except SidecarError as exc:
                    log.warning("library: %s", exc.message)
                    report.unreadable.append(sidecar)
                    record = self._bare_record(video, sidecar)
                else:
                    record = (self._record(entry, rel) if entry.video_path == video
                              else self._bare_record(video))
            else:
                record = self._bare_record(video)
            current = self.store.get_result(rel)
            if current is None or _changed(current, record):
                self.store.upsert_result(_keep_mark(current, record))
                report.added += current is None
        return after, report, sorted(videos)


def _changed(current: ResultRecord, fresh: ResultRecord) -> bool:
    return (current.sidecar_ok, current.sidecar_json, current.file_size) != (
        fresh.sidecar_ok, fresh.sidecar_json, fresh.file_size)


def _keep_mark(current: ResultRecord | None, fresh: ResultRecord) -> ResultRecord:
    """A row without a sidecar keeps the mark the index had (nowhere else to keep it)."""
    if current is not None and not fresh.sidecar_ok and fresh.mark is None:
        return replace(fresh, mark=current.mark)
    return fresh


def file_size(path: Path, fallback: int) -> int:
    """The size of the regular file ``path``, or ``fallback`` when it is not one."""
    info = regular_file(path)
    return info.st_size if info is not None else fallback


def _video_for(sidecar: Path) -> Path | None:
    for suffix in (".mp4", ".mov", ".MP4", ".MOV"):
        candidate = sidecar.with_suffix(suffix)
        if regular_file(candidate) is not None:
            return candidate
    return None


