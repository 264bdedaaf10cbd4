"""The "Library" tab's page: the gallery over the engine's library, built on the first
visit of the tab (the window opens without it) and again after the library moved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kling_desktop.engine.runner import Engine
from kling_desktop.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from kling_desktop.ui.gallery import GalleryWidget

GALLERY_SHUTDOWN_MS = 3000


class LibraryTab(QWidget):
    """Holds the gallery while there is one; relays its ``use_settings_again(LibraryEntry)``
    and ``status_message(str)``."""

    use_settings_again = Signal(object)
    status_message = Signal(str)

    def __init__(self, engine: Engine, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.tasks = tasks
        self.gallery: GalleryWidget | None = None
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)

    def ensure_gallery(self) -> GalleryWidget:
        """Build the gallery over the engine's current library (once, or after a move)."""
        if self.gallery is not None and self.gallery.library is self.engine.library:
            return self.gallery
        self._drop_gallery()
        from kling_desktop.ui.gallery import GalleryWidget  # built on first visit of the tab

        gallery = GalleryWidget(self.engine.library, self.engine.store, tasks=self.tasks,
                                parent=self)
        gallery.use_settings_again.connect(self.use_settings_again)
        gallery.status_message.connect(self.status_message)
        layout = self.layout()
        assert layout is not None
        layout.addWidget(gallery)
        self.gallery = gallery
        return gallery

    def follow_library(self, *, shown: bool) -> None:
        """After new settings: a gallery over a library that moved is rebuilt now when the
        tab is ``shown``, else on its next visit."""
        if self.gallery is None or self.gallery.library is self.engine.library:
            return
        if shown:
            self.ensure_gallery()
        else:
            self._drop_gallery()

    def shutdown(self, timeout_ms: int) -> bool:
        """Stop the gallery's workers (bounded). True when they all ended."""
        if self.gallery is None:
            return True
        return self.gallery.shutdown(min(timeout_ms, GALLERY_SHUTDOWN_MS))

    def _drop_gallery(self) -> None:
        if self.gallery is not None:
            self.gallery.shutdown(GALLERY_SHUTDOWN_MS)
            self.gallery.deleteLater()
            self.gallery = None
