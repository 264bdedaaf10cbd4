"""What a job's buttons do (retry, try now, cancel, send again, top up, use a link, reuse,
play, show in folder), and "use these settings again" for a saved result: the window's
answers to the jobs panel and the gallery."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMessageBox

from kling_desktop.api.models import Mode, Model, Orientation
from kling_desktop.engine.batch import JobOptions
from kling_desktop.engine.jobs import Job
from kling_desktop.engine.library import LibraryEntry
from kling_desktop.errors import error_text
from kling_desktop.i18n import _
from kling_desktop.sources import is_link
from kling_desktop.ui.desktop import reveal
from kling_desktop.ui.jobs import Action
from kling_desktop.ui.main_window.dialogs import confirm_send_again, confirm_stop_following

if TYPE_CHECKING:
    from kling_desktop.engine.library import Library
    from kling_desktop.ui.main_window.window import MainWindow

log = logging.getLogger(__name__)


def kept_inputs(library: Library, entry: LibraryEntry) -> tuple[str, str]:
    """On a worker: the picture and the clip a saved result was made from, as the form
    takes them: the copies kept with it under their recorded names ("hero.png", not
    "04a1e7221aeeda68.png"; a hard link or a copy), a link as it was given, "" when
    neither was kept."""
    inputs = []
    for ref in (entry.image, entry.video):
        kept = library.reuse_path(ref)
        inputs.append(str(kept) if kept is not None else (ref.url or ""))
    return inputs[0], inputs[1]


def provider_site(base_url: str) -> str | None:
    """The provider's website for a base URL (``https://api.x.com`` -> ``https://x.com``).

    None for loopback addresses (the demo and tests have no website).
    """
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if not host or host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    if host.startswith("api.") and host.count(".") >= 2:
        host = host[4:]
    return f"https://{host}"


class JobActions:
    """Carries out the actions the jobs panel and the gallery ask of ``window``."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def trigger(self, action: str, job: Job) -> None:
        """Do what the button ``action`` of ``job``'s row stands for."""
        controller = self.window.controller
        handlers: dict[str, Callable[[], object]] = {
            Action.RETRY: lambda: controller.retry(job.id),
            Action.TRY_NOW: lambda: controller.run_now(job.id),
            Action.CANCEL: lambda: self.cancel(job),
            Action.OPEN_SETTINGS: self.window.open_settings,
            Action.TOP_UP: lambda: self.top_up(job),
            Action.CHOOSE_INPUTS: lambda: self.reuse_job(job, keep_video=True,
                                                          message=_(
                                                              "Choose another picture or clip, "
                                                              "then press Generate.")),
            Action.USE_LINK: lambda: self.use_link(job),
            Action.SEND_AGAIN: lambda: self.send_again(job),
            Action.PLAY: lambda: self.play(job),
            Action.OPEN_EXTERNALLY: lambda: self.open_externally(job),
            Action.SHOW_IN_FOLDER: lambda: self.show_in_folder(job),
            Action.REUSE: lambda: self.reuse_job(job, keep_video=True,
                                                 message=_("The job's inputs and options "
                                                           "are in the form.")),
            Action.COPY_DETAILS: lambda: self.window.jobs_panel.copy_details(job),
        }
        handler = handlers.get(action)
        if handler is not None:
            handler()

    def cancel(self, job: Job) -> None:
        if job.task_id and not confirm_stop_following(self.window, demo=job.demo):
            return
        self.window.controller.cancel(job.id)

    def send_again(self, job: Job) -> None:
        if confirm_send_again(self.window, demo=job.demo):
            self.window.controller.retry(job.id, confirm_possible_duplicate=True)

    def top_up(self, job: Job) -> None:
        window = self.window
        site = None if job.demo else provider_site(job.base_url or window.engine.base_url)
        if site is None:
            QMessageBox.information(
                window, _("Top up"),
                _("This job ran in the demo (or on a provider on this computer): nothing was "
                  "billed and there is no balance to top up."))
            return
        if window.open_url(QUrl(site)):
            window.statusBar().showMessage(
                _("Opened {site}: add credit there, then press Retry.").format(site=site),
                10000)

    def use_link(self, job: Job) -> None:
        self.reuse_job(job, keep_video=False,
                       message=_("Paste a public https:// link to the clip in the motion "
                                 "box, then press Generate."))
        self.window.form.video_slot.url_edit.setFocus()

    def reuse_job(self, job: Job, *, keep_video: bool, message: str) -> None:
        """The job's inputs and options in the form; a trimmed or converted input listed
        under its original's name with its note, as right after converting it."""
        window = self.window
        spec = job.spec
        origins = {source: origin for source, origin in ((spec.image, spec.image_origin),
                                                         (spec.video, spec.video_origin))
                   if origin is not None}
        window.form.apply_options(spec.options)
        window.form.set_inputs([spec.image], [spec.video] if keep_video else [], origins)
        window.pages.setCurrentWidget(window.splitter)
        window.statusBar().showMessage(message, 10000)

    def reuse_result(self, entry: LibraryEntry) -> None:
        """Put a saved result's inputs (the copies kept with it, under their original
        names: named on the TaskRunner, which may copy them) and options in the form.
        Nothing is sent."""
        window = self.window
        try:
            options = JobOptions(
                model=Model(entry.model), mode=Mode(entry.mode), prompt=entry.prompt,
                orientation=Orientation(entry.orientation),
                keep_original_sound=entry.keep_original_sound)
        except ValueError:
            window.statusBar().showMessage(
                _("These settings come from a newer or unknown model; pick them by hand."),
                8000)
            return
        window.tasks.run(kept_inputs, window.engine.library, entry, key="reuse-result",
                         on_done=lambda inputs: self._put_back(entry, options, inputs),
                         on_failed=self._reuse_failed)

    def _put_back(self, entry: LibraryEntry, options: JobOptions, inputs: object) -> None:
        window = self.window
        if not isinstance(inputs, tuple):
            return
        image, video = inputs
        origins = {source: ref.origin for source, ref in ((image, entry.image),
                                                           (video, entry.video))
                   if source and ref.origin is not None and not is_link(source)}
        window.form.apply_options(options)
        window.form.set_inputs([image] if image else [], [video] if video else [], origins)
        window.tabs.setCurrentWidget(window.pages)
        if not image and not video:
            note = _("The picture and the clip were not kept with this result; add them again.")
        elif not image:
            note = _("The picture was not kept with this result; add it again.")
        elif not video:
            note = _("The clip was not kept with this result; add it again.")
        else:
            note = ""
        said = _("Settings of the saved result are in the form.")
        if note:
            said = _("{message} {fix}").format(message=said, fix=note)
        window.statusBar().showMessage(said, 8000)

    def _reuse_failed(self, error: BaseException) -> None:
        log.warning("use these settings again: %r", error)
        self.window.statusBar().showMessage(
            _("The inputs kept with this result could not be read ({error}).").format(
                error=error_text(error)), 8000)

    def play(self, job: Job) -> None:
        """Play a saved job's video in the app: the Library tab, the result selected, its
        player playing (filters are cleared if they hide it)."""
        if not job.output_path:
            return
        window = self.window
        library = window.engine.library
        try:
            key = library.relative(Path(job.output_path))
        except ValueError:   # saved in a library folder used before: not in this one
            key = None
        window.show_gallery()
        gallery = window.library_page.ensure_gallery()
        found = key is not None and gallery.select_key(key)
        if not found and key is not None:
            gallery.refresh()                     # saved a moment ago
            found = gallery.select_key(key)
            if not found and gallery.model.query.filtered:
                gallery.filter_bar.reset()        # hidden by the filters
                found = gallery.select_key(key)
        if not found:
            window.jobs_panel.set_gone(job.id)
            window.statusBar().showMessage(
                _("This video is no longer in the library: it was moved to the trash, deleted "
                  "or the library folder changed."), 10000)
            return
        gallery.detail.player.play()

    def open_externally(self, job: Job) -> None:
        """The secondary way: the computer's own video player."""
        if job.output_path:
            self.window.open_url(QUrl.fromLocalFile(job.output_path))

    def show_in_folder(self, job: Job) -> None:
        if not job.output_path:
            return
        reveal(Path(job.output_path), self.window.opener)
