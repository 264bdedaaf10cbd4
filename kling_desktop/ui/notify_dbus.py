"""The desktop's own notification service on Linux: ``org.freedesktop.Notifications``
over the session bus, spoken with jeepney.

Why jeepney and not QtDBus: ``Notify(s app_name, u replaces_id, s app_icon, s summary,
s body, as actions, a{sv} hints, i expire_timeout) -> u id`` takes a D-Bus ``uint32``,
which PySide6's QtDBus cannot marshal from Python (strict servers refuse the call), and
the server's answers (``ActionInvoked``, ``NotificationClosed``) may be sent to the
connection that made the notification only (GNOME Shell does), so one connection must
both send and listen. jeepney is pure Python and already ships in every Linux build
(``keyring``'s Secret Service backend depends on it); it is imported lazily, on Linux
only.

:class:`NotificationService` holds that one connection. :meth:`~NotificationService.open`
and :meth:`~NotificationService.notify` block (each call bounded by a timeout) and are
meant for the window's worker threads; the connection's receiving thread hands every
signal of the service to ``on_signal`` (the caller relays it to the main thread);
:meth:`~NotificationService.close` ends that thread and the connection. Nothing here
touches a widget.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
NOTIFY_SIGNATURE = "susssasa{sv}i"
CALL_TIMEOUT = 2.0          # seconds: a desktop service that is slower than this is not there
EXPIRE_DEFAULT = -1         # the server's own display time

# Urgency levels of the specification (a D-Bus byte).
URGENCY_NORMAL = 1
URGENCY_CRITICAL = 2



def supported() -> bool:
    """Whether this platform may have the freedesktop service (Linux; Windows and
    macOS have their own notification centres, reached through the tray icon)."""
    return sys.platform.startswith("linux")


@dataclass(frozen=True)
class ServerInfo:
    """What ``GetServerInformation`` and ``GetCapabilities`` said."""

    name: str
    vendor: str
    version: str
    spec_version: str
    capabilities: frozenset[str] = frozenset()

    @property
    def actions(self) -> bool:
        """Whether clicking a notification reaches us (``ActionInvoked``)."""
        return "actions" in self.capabilities

    @property
    def body_markup(self) -> bool:
        """Whether the body is read as markup (``<``, ``&`` must then be escaped)."""
        return "body-markup" in self.capabilities


@dataclass(frozen=True)
class Notification:
    """One call of ``Notify``, in plain Python values."""

    summary: str
    body: str
    app_name: str
    app_icon: str = ""
    actions: Sequence[str] = ()              # key, label, key, label…
    hints: Mapping[str, tuple[str, Any]] = field(default_factory=dict)   # name -> (sig, value)
    replaces_id: int = 0
    expire_timeout: int = EXPIRE_DEFAULT

    def body_values(self) -> tuple[Any, ...]:
        return (self.app_name, self.replaces_id, self.app_icon, self.summary, self.body,
                list(self.actions), dict(self.hints), self.expire_timeout)


@dataclass(frozen=True)
class ServerSignal:
    """A signal of the service: ``kind`` is the member name (``ActionInvoked``,
    ``NotificationClosed``, ``ActivationToken``), ``value`` the action key, the
    close reason or the activation token."""

    kind: str
    notification_id: int
    value: str | int


class NotifyFailed(Exception):
    """The service did not take a notification (gone, refused, or too slow)."""


class NotificationService:
    """One session-bus connection to the notification service, for sending and listening.

    Thread-safe: :meth:`open` and :meth:`notify` run on workers, :meth:`close` on the
    main thread. One receiving thread reads the connection: replies go to the call
    waiting for them, the service's signals to ``on_signal``.
    """

    def __init__(self, on_signal: Callable[[ServerSignal], None]) -> None:
        self._on_signal = on_signal
        self._lock = threading.Lock()            # opening and closing
        self._closed = False
        self._conn: Any = None
        self._receiver: threading.Thread | None = None
        self._waiting: dict[int, Future[Any]] = {}   # serial of a call -> its reply
        self._waiting_lock = threading.Lock()
        self._owner = ""            # the server's unique bus name: its signals only
        self.info: ServerInfo | None = None

    def open(self, timeout: float = CALL_TIMEOUT) -> ServerInfo | None:
        """Connect and ask the service who it is; None when there is no session bus,
        no service, or jeepney is missing. Once open, later calls answer at once."""
        with self._lock:
            if self._closed:
                return None
            if self._conn is not None:
                return self.info
            try:
                self._connect(timeout)
            except Exception as exc:   # any failure means "not on this desktop"
                log.info("no desktop notification service: %s", _reason(exc))
                self._disconnect()
                return None
            info = self.info
            if info is not None:
                log.info("desktop notifications through %s %s (%s)", info.name, info.version,
                         info.vendor)
            return info

    def _connect(self, timeout: float) -> None:
        j = _jeepney()
        self._conn = j.open_dbus_connection(bus="SESSION", auth_timeout=timeout)
        self._receiver = threading.Thread(target=self._receive, args=(self._conn,),
                                          name="desktop-notifications", daemon=True)
        self._receiver.start()

        def ask(message: Any) -> tuple[Any, ...]:
            return tuple(j.unwrap_msg(self._call(message, timeout)))

        name, vendor, version, spec_version = ask(j.new_method_call(_address(),
                                                                    "GetServerInformation"))
        capabilities = frozenset(ask(j.new_method_call(_address(), "GetCapabilities"))[0])
        (self._owner,) = ask(j.message_bus.GetNameOwner(SERVICE))
        ask(j.message_bus.AddMatch(j.MatchRule(type="signal", interface=INTERFACE, path=PATH)))
        self.info = ServerInfo(str(name), str(vendor), str(version), str(spec_version),
                               capabilities)

    def notify(self, note: Notification, timeout: float = CALL_TIMEOUT) -> int:
        """Show ``note``; the server's id for it. Raises :class:`NotifyFailed`."""
        j = _jeepney()
        message = j.new_method_call(_address(), "Notify", NOTIFY_SIGNATURE, note.body_values())
        try:
            reply = self._call(message, timeout)
            (notification_id,) = j.unwrap_msg(reply)
        except Exception as exc:   # an error reply, a timeout, a connection gone
            raise NotifyFailed(_reason(exc)) from exc
        sender = reply.header.fields.get(j.HeaderFields.sender)
        if sender:
            self._owner = str(sender)     # the server may have been restarted
        return int(notification_id)

    def _call(self, message: Any, timeout: float) -> Any:
        """Send a method call and wait (bounded) for its reply, which may be an error."""
        conn = self._conn
        if conn is None:
            raise NotifyFailed("the notification service is not connected")
        serial = next(conn.outgoing_serial)
        reply: Future[Any] = Future()
        with self._waiting_lock:
            self._waiting[serial] = reply
        try:
            conn.send(message, serial=serial)
            return reply.result(timeout=timeout)
        finally:
            with self._waiting_lock:
                self._waiting.pop(serial, None)

    def _receive(self, conn: Any) -> None:
        """The receiving thread: replies to the calls waiting for them, signals on."""
        j = _jeepney()
        try:
            while True:
                message = conn.receive()
                fields = message.header.fields
                kind = message.header.message_type
                if kind in (j.MessageType.method_return, j.MessageType.error):
                    with self._waiting_lock:
                        waiting = self._waiting.pop(fields.get(j.HeaderFields.reply_serial), None)
                    if waiting is not None:
                        waiting.set_result(message)
                elif kind is j.MessageType.signal:
                    self._signal(fields.get(j.HeaderFields.sender),
                                 fields.get(j.HeaderFields.interface),
                                 fields.get(j.HeaderFields.member), message.body)
        except j.ReceiveStopped:
            pass                            # closed by close()
        except (OSError, ValueError) as exc:
            log.info("the session bus went away: %s", _reason(exc))
        except Exception:   # a thread's failure would otherwise only reach stderr
            log.exception("the desktop notification connection failed")
        finally:
            with self._waiting_lock:
                waiting_calls, self._waiting = list(self._waiting.values()), {}
            for waiting in waiting_calls:
                waiting.set_exception(ConnectionError("the session bus went away"))

    def _signal(self, sender: object, interface: object, member: object,
                body: tuple[Any, ...]) -> None:
        if interface != INTERFACE or (self._owner and sender != self._owner):
            return                          # someone else speaking on the interface
        if member in ("ActionInvoked", "NotificationClosed", "ActivationToken") \
                and len(body) == 2:
            try:
                self._on_signal(ServerSignal(str(member), int(body[0]), body[1]))
            except Exception:   # the relay must never end this thread
                log.exception("could not pass on a notification signal")

    def close(self) -> None:
        """End the receiving thread and the connection (bounded; idempotent)."""
        with self._lock:
            self._closed = True
            self._disconnect()

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()              # wakes the receiving thread (ReceiveStopped)
            self._conn = None
        if self._receiver is not None:
            self._receiver.join(timeout=2.0)
            self._receiver = None
        self.info = None


@functools.cache
def _jeepney() -> SimpleNamespace:
    """The few pieces of jeepney used here, imported on first use (Linux only: it is
    not part of the Windows and macOS builds). ImportError when it is missing."""
    import jeepney  # type: ignore[import-untyped]
    from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
    from jeepney.io.threading import (  # type: ignore[import-untyped]
        ReceiveStopped,
        open_dbus_connection,
    )
    from jeepney.low_level import HeaderFields  # type: ignore[import-untyped]
    from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]

    return SimpleNamespace(
        DBusAddress=jeepney.DBusAddress, MatchRule=jeepney.MatchRule,
        new_method_call=jeepney.new_method_call, message_bus=message_bus,
        MessageType=jeepney.MessageType, ReceiveStopped=ReceiveStopped,
        open_dbus_connection=open_dbus_connection,
        HeaderFields=HeaderFields, unwrap_msg=unwrap_msg)


def _address() -> Any:
    return _jeepney().DBusAddress(PATH, bus_name=SERVICE, interface=INTERFACE)


def _reason(exc: BaseException) -> str:
    """A short reason for the log (D-Bus errors carry their own name)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
