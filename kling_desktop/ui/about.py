"""Help ▸ About: version, what the app does, where things are."""

from __future__ import annotations

import html
import platform

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMessageBox, QWidget

from kling_desktop import APP_NAME, __version__
from kling_desktop.api.models import DEFAULT_BASE_URL
from kling_desktop.i18n import _
from kling_desktop.paths import AppPaths

KLING_URL = "https://klingai.com"


def about_html(paths: AppPaths | None = None) -> str:
    def link(url: str, text: str) -> str:
        return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'

    rows = [
        f"<h3>{html.escape(APP_NAME)} {html.escape(__version__)}</h3>",
        "<p>" + html.escape(_(
            "Give a character picture the movement of a reference video, with Kling's "
            "motion-control models through your provider's API. Every job is checked before "
            "anything is spent, kept on this computer, and resumed if the app is closed."))
        + "</p>",
        "<p>",
        _("{kling} (the models) · {provider}").format(
            kling=link(KLING_URL, _("Kling AI")),
            provider=link(DEFAULT_BASE_URL, _("Default provider"))),
        "</p>",
    ]
    if paths is not None:
        rows.append("<p>" + _("Your data: {data} · Logs: {logs}").format(
            data=link(QUrl.fromLocalFile(str(paths.data_dir)).toString(), _("folder")),
            logs=link(QUrl.fromLocalFile(str(paths.logs_dir)).toString(), _("folder")))
            + "</p>")
    rows.append(
        f"<p><small>Qt {html.escape(qVersion())} · PySide6 {html.escape(PySide6.__version__)} · "
        f"Python {html.escape(platform.python_version())}</small></p>")
    return "\n".join(rows)


def build_about_box(parent: QWidget | None, icon: QIcon | None = None,
                    paths: AppPaths | None = None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("aboutBox")
    box.setWindowTitle(_("About {app}").format(app=APP_NAME))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_html(paths))
    if icon is not None and not icon.isNull():
        box.setIconPixmap(icon.pixmap(64, 64))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return box


def show_about(parent: QWidget | None, icon: QIcon | None = None,
               paths: AppPaths | None = None) -> None:
    box = build_about_box(parent, icon, paths)
    box.exec()
    box.deleteLater()
