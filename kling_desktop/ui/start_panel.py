"""The first thing a new user sees: paste an API key, or try the demo.

Shown instead of the form when no key is set up (and not in demo mode). A key
belongs to one provider: the panel names the provider the app uses now
(``base_url`` / :meth:`StartPanel.set_provider`; without one, the provider of
``KLING_BASE_URL`` or the settings) and keeps the key for that one only. The
key goes to the OS keyring through ``engine.secrets`` on the TaskRunner; when
the keyring cannot keep it, the panel says why and how to fix it, and offers to
use the key for this session only (kept in this process's memory for that
provider, never written anywhere, not in the environment either).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QIcon, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kling_desktop import APP_NAME
from kling_desktop.api.errors import KlingError
from kling_desktop.errors import error_text
from kling_desktop.i18n import _
from kling_desktop.keys import InvalidKeyError
from kling_desktop.ui.key_entry import KeyEntry
from kling_desktop.ui.tasks import TaskRunner
from kling_desktop.ui.widgets import (
    Details,
    PrimaryButton,
    WebLink,
    error_color,
    muted_color,
    page_name,
)

if TYPE_CHECKING:
    from kling_desktop.engine.secrets import KeyringStatus

# engine.secrets brings the keyring and httpx (its address parser): imported by the
# workers and when the panel is first shown, never before the window's first paint (a
# panel shown before it is named later: StartPanel.defer_naming).


def save_key(key: str, base_url: str | None = None) -> None:
    """Worker: keep the key in the keyring for the provider at ``base_url`` (None: the one
    in use). Raises InvalidKeyError / KeyringUnavailableError, each with a fix."""
    from kling_desktop.engine.keys_cli import default_provider
    from kling_desktop.engine.secrets import store_api_key

    store_api_key(key, base_url if base_url is not None else default_provider())


def read_keyring_status() -> KeyringStatus:
    """Worker: whether the keyring can keep a key here (see ``secrets.keyring_status``)."""
    from kling_desktop.engine.secrets import keyring_status

    return keyring_status()


def session_key(key: str, base_url: str | None = None) -> None:
    """Worker: use the key for this session only, for the provider at ``base_url``."""
    from kling_desktop.engine.keys_cli import default_provider
    from kling_desktop.engine.secrets import use_key_for_session

    use_key_for_session(key, base_url if base_url is not None else default_provider())


class StartPanel(QWidget):
    """"Paste your API key" or "Try the demo".

    Signals: ``key_ready()`` once a key is usable (saved, or for this session);
    ``demo_requested()``.
    """

    key_ready = Signal()
    demo_requested = Signal()

    def __init__(self, tasks: TaskRunner, icon: QIcon | None = None,
                 parent: QWidget | None = None, *, base_url: str | None = None,
                 account_page: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("startPanel")
        self._tasks = tasks
        self._keyring: KeyringStatus | None = None
        self._base_url: str | None = None
        self._naming_deferred = False
        self._build(icon)
        self.set_provider(base_url)
        self.set_account_page(account_page)

    def _build(self, icon: QIcon | None) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 32, 32, 32)
        outer.addStretch(1)

        column = QWidget(self)
        column.setMaximumWidth(620)
        column.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)

        head = QHBoxLayout()
        head.setSpacing(16)
        if icon is not None and not icon.isNull():
            logo = QLabel(column)
            logo.setPixmap(icon.pixmap(64, 64))
            logo.setAccessibleName(_("{app} logo").format(app=APP_NAME))
            head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        words = QVBoxLayout()
        words.setSpacing(4)
        title = QLabel(_("Welcome to {app}").format(app=APP_NAME), column)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setWeight(QFont.Weight.DemiBold)
        title.setFont(font)
        title.setAccessibleName(title.text())
        words.addWidget(title)
        intro = QLabel(_(
            "Give a character picture the movement of a reference clip: pick the two, press "
            "Generate, and Kling's motion-control models make the video."), column)
        intro.setWordWrap(True)
        words.addWidget(intro)
        head.addLayout(words, 1)
        layout.addLayout(head)
        layout.addSpacing(10)

        # -- the key card
        key_card = self._card(column)
        key_layout = QVBoxLayout(key_card)
        key_layout.setContentsMargins(20, 18, 20, 18)
        key_layout.setSpacing(10)
        self.key_title = QLabel(_("Paste your API key"), key_card)
        self.key_title.setFont(self._heading_font(self.key_title))
        key_layout.addWidget(self.key_title)
        key_help = QLabel(_(
            "Use the key from your provider's console. It is saved in your system's "
            "password store, never in a file, and used only for this provider (Settings "
            "changes the provider)."), key_card)
        key_help.setWordWrap(True)
        self._mute(key_help)
        key_layout.addWidget(key_help)
        self.get_key_link = WebLink(key_card)
        self.get_key_link.setObjectName("startGetKey")
        key_layout.addWidget(self.get_key_link)

        row = QHBoxLayout()
        row.setSpacing(8)
        self.key_edit = KeyEntry(key_card)
        self.key_edit.setObjectName("startKeyEdit")
        self.key_edit.setPlaceholderText("sk-…")
        self.key_edit.setClearButtonEnabled(True)
        self.key_edit.textChanged.connect(self.on_key_edit_textChanged)
        self.key_edit.returnPressed.connect(self.on_save_button_clicked)
        row.addWidget(self.key_edit, 1)
        self.save_button = QPushButton(_("Save key"), key_card)
        self.save_button.setObjectName("startSaveKey")
        self.save_button.setDefault(True)
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.on_save_button_clicked)
        row.addWidget(self.save_button)
        key_layout.addLayout(row)

        self.message_label = QLabel(key_card)
        self.message_label.setObjectName("startMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setVisible(False)
        key_layout.addWidget(self.message_label)
        self.details = Details(key_card)
        self.details.setObjectName("startKeyringDetails")
        key_layout.addWidget(self.details)

        self.session_button = QPushButton(_("Use this key for this session only"), key_card)
        self.session_button.setObjectName("startSessionKey")
        self.session_button.setToolTip(
            _("Keep the key in memory until you quit; you will paste it again next time."))
        self.session_button.setVisible(False)
        self.session_button.clicked.connect(self.on_session_button_clicked)
        session_row = QHBoxLayout()
        session_row.addWidget(self.session_button)
        session_row.addStretch(1)
        key_layout.addLayout(session_row)
        layout.addWidget(key_card)

        # -- the demo card
        demo_card = self._card(column)
        demo_layout = QHBoxLayout(demo_card)
        demo_layout.setContentsMargins(20, 16, 20, 16)
        demo_layout.setSpacing(16)
        demo_words = QVBoxLayout()
        demo_words.setSpacing(4)
        demo_title = QLabel(_("Just looking?"), demo_card)
        demo_title.setFont(self._heading_font(demo_title))
        demo_words.addWidget(demo_title)
        demo_text = QLabel(_(
            "Try the whole flow with a sample character and clip. The demo runs on this "
            "computer: nothing is sent to a provider or billed."), demo_card)
        demo_text.setWordWrap(True)
        self._mute(demo_text)
        demo_words.addWidget(demo_text)
        demo_layout.addLayout(demo_words, 1)
        # The newcomer's way in: the one filled button on the page, like Generate later.
        self.demo_button = PrimaryButton(_("Try the demo"), demo_card, object_name="startDemo",
                                         min_width=150)
        self.demo_button.setToolTip(_("Open the app with a sample character and clip; "
                                      "nothing is billed."))
        self.demo_button.clicked.connect(self.demo_requested)
        demo_layout.addWidget(self.demo_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(demo_card)

        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(column, 10)
        centre.addStretch(1)
        outer.addLayout(centre)
        outer.addStretch(2)

        self.setTabOrder(self.key_edit, self.save_button)
        self.setTabOrder(self.save_button, self.session_button)
        self.setTabOrder(self.session_button, self.demo_button)
        self.setFocusProxy(self.key_edit)

    def _card(self, parent: QWidget) -> QFrame:
        card = QFrame(parent)
        card.setFrameShape(QFrame.Shape.StyledPanel)
        card.setAutoFillBackground(True)
        card.setBackgroundRole(QPalette.ColorRole.Base)
        return card

    def _heading_font(self, label: QLabel) -> QFont:
        font = label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setWeight(QFont.Weight.DemiBold)
        return font

    def _mute(self, label: QLabel) -> None:
        _set_text_color(label, muted_color(self.palette()))

    # -- public ---------------------------------------------------------------------------------

    def set_provider(self, base_url: str | None) -> None:
        """The provider whose key is pasted here (None: ``KLING_BASE_URL``'s or the settings')."""
        self._base_url = base_url
        self._named = False
        if self.isVisible():
            self._name_provider()

    def defer_naming(self) -> None:
        """The panel is shown before the window's first paint: the provider is named by
        :meth:`name_provider` (once the keyring was asked, on a worker, which loads the
        address parser), not when shown, which would load it first."""
        self._naming_deferred = True

    def name_provider(self) -> None:
        """Name the provider in the title now (after :meth:`defer_naming`)."""
        self._naming_deferred = False
        self._name_provider()

    def showEvent(self, event: QShowEvent) -> None:
        if not self._naming_deferred:
            self._name_provider()
        super().showEvent(event)

    def _name_provider(self) -> None:
        """The provider's name in the title, worked out when the panel is first shown (the
        address parser is not needed before)."""
        if self._named:
            return
        self._named = True
        base_url = self._base_url
        from kling_desktop.engine.secrets import provider_name

        try:
            name = provider_name(base_url) if base_url is not None else None
        except ValueError:
            name = None
        title = (_("Paste your API key for {provider}").format(provider=name) if name
                 else _("Paste your API key"))
        self.key_title.setText(title)
        self.key_title.setAccessibleName(title)
        self.key_edit.setAccessibleName(
            _("API key for {provider}").format(provider=name) if name else _("API key"))

    def set_account_page(self, url: str | None) -> None:
        """Where this provider's keys are made (its console), shown as "Get a key" link."""
        if url:
            self.get_key_link.set_link(_("No key yet? "), url, _("Get a key"),
                                       _(" at {page}").format(page=page_name(url)))
        else:
            self.get_key_link.set_link("", None, "", fallback=_(
                "No key yet? Your provider's website has a console where keys are made."))

    def provider_text(self) -> str:
        self.name_provider()
        return self.key_title.text()

    def check_keyring(self) -> None:
        """Find out (on a worker) whether the keyring can keep a key, and say so early."""
        self._tasks.run(read_keyring_status, on_done=self._on_keyring_status)

    def message(self) -> str:
        return self.message_label.text() if self.message_label.isVisible() else ""

    # -- reacting -------------------------------------------------------------------------------

    @Slot(str)
    def on_key_edit_textChanged(self, text: str) -> None:
        self.save_button.setEnabled(bool(text.strip()))

    @Slot()
    def on_save_button_clicked(self) -> None:
        key = self.key_edit.key()
        if not key:
            return
        if self._refuse_impossible_key():
            return
        self.save_button.setEnabled(False)
        self.key_edit.setEnabled(False)
        self._show(_("Saving the key…"), error=False)
        self._tasks.run(save_key, key, self._base_url,
                        on_done=self._on_saved, on_failed=self._on_save_failed)

    @Slot()
    def on_session_button_clicked(self) -> None:
        key = self.key_edit.key()
        if not key:
            self._show(_("Paste the key first."), error=True)
            return
        if self._refuse_impossible_key():
            return
        # In this process's memory only, for this provider only.
        self.session_button.setEnabled(False)
        self._tasks.run(session_key, key, self._base_url,
                        on_done=self._on_session_key_set, on_failed=self._on_session_key_failed)

    def _refuse_impossible_key(self) -> bool:
        """Say why the text pasted cannot be a key, if it cannot (nothing is sent then)."""
        problem = self.key_edit.key_problem(separator="\n")
        if problem:
            self._show(problem, error=True)
        return bool(problem)

    def _on_session_key_set(self, _result: object) -> None:
        self.session_button.setEnabled(True)
        self.key_edit.clear()
        self.key_ready.emit()

    def _on_session_key_failed(self, error: BaseException) -> None:
        self.session_button.setEnabled(True)
        self._on_save_failed(error)

    def _on_saved(self, _result: object) -> None:
        self.key_edit.setEnabled(True)
        self.key_edit.clear()
        self.message_label.setVisible(False)
        self.details.set_text("")
        self.key_ready.emit()

    def _on_save_failed(self, error: BaseException) -> None:
        self.key_edit.setEnabled(True)
        self.save_button.setEnabled(bool(self.key_edit.text().strip()))
        if isinstance(error, InvalidKeyError):
            # Not a key: keeping it for the session would not help.
            self._show(error_text(error, separator="\n"), error=True)
        elif isinstance(error, KlingError):
            self._show(error_text(error, separator="\n"), error=True)
            self.details.set_text(getattr(error, "detail", ""))
            self.session_button.setVisible(True)
        elif isinstance(error, ValueError):
            self._show(_("The provider address is not a web address.\n"
                         "Correct it in Settings, then paste the key again."),
                       error=True)
        else:
            self._show(_("The key could not be saved ({kind}); see the log.").format(
                kind=type(error).__name__), error=True)
            self.session_button.setVisible(True)

    def _on_keyring_status(self, status: object) -> None:
        from kling_desktop.engine.secrets import KeyringStatus

        if not isinstance(status, KeyringStatus):
            return
        self._keyring = status
        if not status.ok:
            self._show(f"{status.message}\n{status.fix}".strip(), error=True)
            self.details.set_text(status.detail)
            self.session_button.setVisible(True)

    def _show(self, text: str, *, error: bool) -> None:
        color = error_color(self.palette()) if error else muted_color(self.palette())
        _set_text_color(self.message_label, color)
        self.message_label.setText(text)
        self.message_label.setAccessibleDescription(text)
        self.message_label.setVisible(bool(text))


def _set_text_color(label: QLabel, color: QColor) -> None:
    """Labels on a card draw with Text (the card's background is Base), elsewhere WindowText."""
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, color)
    palette.setColor(QPalette.ColorRole.Text, color)
    label.setPalette(palette)
