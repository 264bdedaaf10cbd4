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

from kling_desktop.i18n import N_, _

Shortcut = tuple[str, str]          # (keys as shown, what they do)

# Keys of one place, by place; the key texts are QKeySequence portable strings.
PLACES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (N_("New video form"), (
        ("Ctrl+Return", N_("Generate (from anywhere in the Create tab)")),
        ("Ctrl+V", N_("Paste a picture, a clip or a link into the box under the pointer")),
        ("Del", N_("Remove the selected picture or clip of a batch")),
    )),
    (N_("Jobs list"), (
        ("Return", N_("Play the selected job's video in the library")),
    )),
    (N_("Library"), (
        ("Return", N_("Compare the result with its motion clip")),
        ("Space", N_("Play / pause")),
        ("K", N_("Mark as keeper")),
        ("X", N_("Mark as reject")),
        ("U", N_("Clear the mark")),
        ("Ctrl+O", N_("Open in the system player")),
        ("Ctrl+Shift+S", N_("Save a copy…")),
        ("Ctrl+E", N_("Export the selected results with their descriptions…")),
        ("Del", N_("Move to trash…")),
    )),
    (N_("Player"), (
        ("Space", N_("Play / pause")),
        (",", N_("One frame back")),
        (".", N_("One frame forward")),
        ("M", N_("Sound on / off")),
        ("L", N_("Loop on / off")),
        ("F", N_("Full screen")),
        ("Esc", N_("Leave the comparison")),
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
            rows.append((_(" or ").join(key_text(k) for k in keys),
                         command_text(action.text())))
    return rows


def command_text(menu_text: str) -> str:
    """A menu item's words without its mnemonic ("&Settings…" -> "Settings",
    "设置(&S)…" -> "设置")."""
    text = re.sub(r"\s*\(&[^&)]\)", "", menu_text)
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.rstrip("…").strip()


def shortcuts_html(menu: Sequence[Shortcut]) -> str:
    def table(title: str, rows: Iterable[Shortcut]) -> str:
        cells = "".join(
            f"<tr><td width='150' style='padding: 2px 18px 2px 0'><b>{html.escape(keys)}</b></td>"
            f"<td style='padding: 2px 0'>{html.escape(what)}</td></tr>" for keys, what in rows)
        return f"<h4 style='margin: 10px 0 4px 0'>{html.escape(title)}</h4><table>{cells}</table>"

    parts = [table(_("Menus (anywhere in the window)"), menu)]
    for place, rows in PLACES:
        parts.append(table(_(place), ((key_text(k), _(what)) for k, what in rows)))
    parts.append("<p>" + html.escape(_("Alt with an underlined letter opens that menu or "
                                       "moves to that field.")) + "</p>")
    return "".join(parts)


def all_shortcuts(menu: Sequence[Shortcut]) -> list[Shortcut]:
    """Every (keys, what) listed, menus first (for tests and screen readers)."""
    return list(menu) + [(key_text(k), _(what)) for _place, rows in PLACES for k, what in rows]


def build_shortcuts_dialog(parent: QWidget | None, actions: Iterable[QAction]) -> QDialog:
    dialog = QDialog(parent)
    dialog.setObjectName("shortcutsDialog")
    dialog.setWindowTitle(_("Keyboard shortcuts"))
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
