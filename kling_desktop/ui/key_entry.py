"""The one field where an API key is pasted (the start panel's and the settings').

Hidden unless the user asks to see it (an eye in the field), never shown back
once stored, and checked before use by the engine's own rule
(:func:`kling_desktop.engine.secrets.check_key`: the characters a key cannot
have), whose words :meth:`KeyEntry.key_problem` hands back without quoting the key.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLineEdit, QWidget

from kling_desktop.errors import error_text
from kling_desktop.i18n import _
from kling_desktop.keys import InvalidKeyError, check_key
from kling_desktop.ui.widgets import eye_icon, muted_color


class KeyEntry(QLineEdit):
    """A password field for one API key, with Show/Hide the key as a trailing action."""

    def __init__(self, parent: QWidget | None = None, *, name: str = "") -> None:
        super().__init__(parent)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self.setAccessibleName(name or _("API key"))
        self.show_key_action = QAction(_("Show the key"), self)
        self.show_key_action.setCheckable(True)
        self.show_key_action.toggled.connect(self.on_show_key_action_toggled)
        self.addAction(self.show_key_action, QLineEdit.ActionPosition.TrailingPosition)
        self.on_show_key_action_toggled(False)

    def key(self) -> str:
        """What was pasted, without surrounding spaces ("" when nothing was)."""
        return self.text().strip()

    def key_problem(self, *, separator: str = " ") -> str:
        """Why the text pasted cannot be a key, in plain words (never quoting it);
        "" when it can be one or when nothing was pasted."""
        if not self.key():
            return ""
        try:
            check_key(self.key())
        except InvalidKeyError as error:
            return error_text(error, separator=separator)
        return ""

    @Slot(bool)
    def on_show_key_action_toggled(self, shown: bool) -> None:
        self.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_key_action.setIcon(eye_icon(muted_color(self.palette()), crossed=shown))
        self.show_key_action.setText(_("Hide the key") if shown else _("Show the key"))
        self.show_key_action.setToolTip(self.show_key_action.text())
