"""The gallery tab: review every saved result offline (see :mod:`.widget`)."""

from __future__ import annotations

from kling_desktop.ui.gallery.widget import GalleryWidget

__all__ = ["GalleryWidget"]
