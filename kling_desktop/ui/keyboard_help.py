"""Help ▸ Keyboard shortcuts (F1): every key the app answers to, in one small list.

The window's menu commands are read from its actions (so their keys are always the ones
in use, platform keys included); the keys that belong to one place (the form, the jobs
list, the library, the player) are listed here by place. Keep this list in step with
the ``QShortcut``/``setShortcut`` calls in those rooms.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

Shortcut = tuple[str, str]          # (keys as shown, what they do)

# Keys of one place, by place; the key texts are QKeySequence portable strings.
PLACES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("New video form", (
        ("Ctrl+Return", "Generate (from anywhere in the Create tab)"),
        ("Ctrl+V", "Paste a picture, a clip or a link into the box under the pointer"),
        ("Del", "Remove the selected picture or clip of a batch"),
    )),
    ("Jobs list", (
        ("Return", "Play the selected job's video in the library"),
    )),
    ("Library", (
        ("Return", "Compare the result with its motion clip"),
        ("Space", "Play / pause"),
        ("K", "Mark as keeper"),
        ("X", "Mark as reject"),
        ("U", "Clear the mark"),
        ("Ctrl+O", "Open in the system player"),
        ("Ctrl+Shift+S", "Save a copy…"),
        ("Ctrl+E", "Export the selected results with their descriptions…"),
        ("Del", "Move to trash…"),
    )),
    ("Player", (
        ("Space", "Play / pause"),
        (",", "One frame back"),
        (".", "One frame forward"),
        ("M", "Sound on / off"),
        ("L", "Loop on / off"),
        ("F", "Full screen"),
        ("Esc", "Leave the comparison"),
    )),
)


def key_text(keys: str | QKeySequence) -> str:
    """Keys the way this platform writes them (e.g. "Ctrl+Return" -> "⌘↩" on macOS)."""
    sequence = keys if isinstance(keys, QKeySequence) else QKeySequence(keys)
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


def menu_shortcuts(actions: Iterable[QAction]) -> list[Shortcut]:
    """(keys, command) for every menu action that has keys, in menu order."""
    rows: list[Shortcut] = []
    for action in actions:
        keys = [k for k in action.shortcuts() if not k.isEmpty()]
        # Platform extras such as the keyboard's own "Help" or "Exit" key are left out
        # when the command has a usual key too.
        usual = [k for k in keys if "+" in key_text(k) or re.fullmatch(r"F\d+", key_text(k))]
        keys = usual or keys
        if keys:
            text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            rows.append((" or ".join(key_text(k) for k in keys), text.rstrip("…").strip()))
    return rows


def shortcuts_html(menu: Sequence[Shortcut]) -> str:
    def table(title: str, rows: Iterable[Shortcut]) -> str:
        cells = "".join(
            f"<tr><td width='150' style='padding: 2px 18px 2px 0'><b>{html.escape(keys)}</b></td>"
            f"<td style='padding: 2px 0'>{html.escape(what)}</td></tr>" for keys, what in rows)
        return f"<h4 style='margin: 10px 0 4px 0'>{html.escape(title)}</h4><table>{cells}</table>"

    parts = [table("Menus (anywhere in the window)", menu)]
    for place, rows in PLACES:
        parts.append(table(place, ((key_text(k), what) for k, what in rows)))
    parts.append("<p>Alt with an underlined letter opens that menu or moves to that field.</p>")
    return "".join(parts)


def all_shortcuts(menu: Sequence[Shortcut]) -> list[Shortcut]:
    """Every (keys, what) listed, menus first (for tests and screen readers)."""
    return list(menu) + [(key_text(k), what) for _place, rows in PLACES for k, what in rows]


def build_shortcuts_dialog(parent: QWidget | None, actions: Iterable[QAction]) -> QDialog:
    dialog = QDialog(parent)
    dialog.setObjectName("shortcutsDialog")
    dialog.setWindowTitle("Keyboard shortcuts")
    layout = QVBoxLayout(dialog)
    label = QLabel(shortcuts_html(menu_shortcuts(actions)))
    label.setObjectName("shortcutsText")
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setContentsMargins(6, 0, 6, 6)
    scroll = QScrollArea(dialog)
    scroll.setWidget(label)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    layout.addWidget(scroll, 1)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.resize(660, 660)
    return dialog
