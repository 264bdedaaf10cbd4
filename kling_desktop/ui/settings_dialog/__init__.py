"""The settings dialog, one module per section.

``dialog``    SettingsDialog: lays out the sections, checks the values, saves
``provider``  ProviderSection: address, the key of that provider, the keys kept, proxy
``general``   PricesSection and JobsSection
``keys``      background work: keyring look-ups, saving (key and connection tests are
              the engine's: kling_desktop.engine.provider_checks)
``fields``    message labels and field rows the sections share
"""

from __future__ import annotations

from kling_desktop.ui.settings_dialog.dialog import SettingsDialog
from kling_desktop.ui.settings_dialog.keys import KeyState, read_key_state, save_all

__all__ = ["KeyState", "SettingsDialog", "read_key_state", "save_all"]
