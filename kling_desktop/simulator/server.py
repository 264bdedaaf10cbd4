"""A local imitation of the provider (``shared/API.md``) on 127.0.0.1.

A real HTTP/1.1 server (stdlib ``ThreadingHTTPServer``, one daemon thread per
connection, keep-alive) that uploads, creates and advances tasks, serves results
as real MP4 files, and misbehaves on request (``inject``) so the client, the
engine and the GUI can be tested over loopback, and the app can run a demo.

The hostile faults (see :mod:`kling_desktop.simulator.config`) stay bounded: an
endless or dribbling answer stops as soon as the client hangs up, when the
simulator stops, and after ``HOSTILE_LIMIT_SECONDS`` in any case.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import urlsplit

from kling_desktop.simulator.config import RequestRecord, SimulatorConfig
from kling_desktop.simulator.http import (
    CHUNK,
    HOSTILE_LIMIT_SECONDS,
    Body,
    ClientGone,
    Response,
    Throttle,
    error_answer,
)
from kling_desktop.simulator.provider import Provider, fault_response, passed_through
from kling_desktop.simulator.routes import ProviderRoutes

__all__ = ["Simulator", "serve"]

log = logging.getLogger("kling_desktop.simulator")

_MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
API_ROUTES = frozenset({"upload", "create", "task"})
FAULT_ROUTES = frozenset({"upload", "create", "task", "download", "file"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name="kling-simulator-conn",
            daemon=True,
        )
        self.simulator._track(thread, add=True)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self.simulator._track(threading.current_thread(), add=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error", exc_info=True)


class _Handler(ProviderRoutes, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KlingSimulator/1.0"
    sys_version = ""
    timeout = 60.0
    disable_nagle_algorithm = True

    _body: Body

    @property
    def sim(self) -> Simulator:
        server = self.server
        assert isinstance(server, _Server)
        return server.simulator

    # -- plumbing

    def setup(self) -> None:
        super().setup()
        self.sim._connection(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.sim._connection(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        arrived = time.monotonic()
        sim = self.sim
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        route, action = self._route(method, path)
        status = 499
        recorded = False

        def record(final: int) -> None:
            # Recorded before the answer is written: once a client holds an answer,
            # ``count`` already includes it.
            nonlocal recorded
            if not recorded:
                recorded = True
                sim._record(RequestRecord(method, path, route, final, arrived, query=query,
                                          authorized="Authorization" in self.headers))

        try:
            try:
                self._body = Body(
                    self.rfile,
                    self.headers,
                    Throttle(sim.config.upload_bytes_per_second, sim._stopping),
                )
            except ValueError:
                response = error_answer(400, "Invalid Content-Length header", code="bad_request")
                response.close = True
                status = response.status
                record(status)
                self._write(response, None)
                return
            response, cut_after = self._answer(route, action)
            if response.close:
                self.close_connection = True
            elif not self._body.finished:
                self._body.drain()
            latency = sim.config.latency
            if route in API_ROUTES and latency > 0 and sim._stopping.wait(latency):
                raise ClientGone
            status = response.status
            record(status)
            self._write(response, cut_after)
        except (ClientGone, ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("simulator failed answering %s %s", method, path)
            self.close_connection = True
            if not recorded:
                status = 500
                record(status)
                with contextlib.suppress(OSError):
                    self._write(error_answer(500, "Simulator bug", code="internal_error"), None)
        finally:
            record(status)

    def _answer(
        self, route: str, action: Callable[[], Response]
    ) -> tuple[Response, int | None]:
        fault = self.sim._take_fault(route) if route in FAULT_ROUTES else None
        if fault is None:
            return action(), None
        log.debug("injecting fault %s on %s", fault.status, route)
        real = action() if fault.accept_anyway or fault.passes_through else None
        if fault.passes_through and real is not None:
            return passed_through(real, fault), fault.cut_after
        return fault_response(fault), fault.cut_after

    def _write(self, response: Response, cut_after: int | None) -> None:
        total = response.total
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if not response.endless:
            self.send_header("Content-Length", str(total))
        for name, value in response.headers:
            self.send_header(name, value)
        if response.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        if response.endless:
            self._send_endless()
            return
        budget = total if cut_after is None else max(0, min(cut_after, total))
        if response.dribble is not None:
            budget = self._send_dribble(response, budget)
        elif response.file is None:
            self.wfile.write(response.body[:budget])
        else:
            sent = self._send_file(response.file, response.offset, budget)
            if sent < budget:
                budget = sent
        if budget < total:
            # Advertised the full length, sent less: drop the connection.
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _send_endless(self) -> None:
        """An MP4-looking head, then zeros, until the client hangs up or the hard limit."""
        ends = time.monotonic() + HOSTILE_LIMIT_SECONDS
        self.wfile.write(_MP4_HEAD)
        block = bytes(CHUNK)
        while time.monotonic() < ends and not self.sim._stopping.is_set():
            self.wfile.write(block)  # raises ConnectionError once the client is gone
        self.close_connection = True

    def _send_dribble(self, response: Response, budget: int) -> int:
        """One byte every ``response.dribble`` seconds; returns the bytes sent."""
        assert response.dribble is not None
        if response.file is not None:
            with response.file.open("rb") as f:
                f.seek(response.offset)
                body = f.read(budget)
        else:
            body = response.body[:budget]
        self.wfile.flush()
        ends = time.monotonic() + HOSTILE_LIMIT_SECONDS
        sent = 0
        for index in range(len(body)):
            if time.monotonic() >= ends or self.sim._stopping.wait(response.dribble):
                break
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()
            sent += 1
        return sent

    def _send_file(self, path: Path, offset: int, budget: int) -> int:
        throttle = Throttle(self.sim.config.download_bytes_per_second, self.sim._stopping)
        sent = 0
        with path.open("rb") as f:
            f.seek(offset)
            while sent < budget:
                data = f.read(min(throttle.chunk_size(), budget - sent))
                if not data:
                    break
                throttle.spent(len(data))  # wait first: the last byte arrives on time
                self.wfile.write(data)
                sent += len(data)
        return sent


class Simulator(Provider):
    """The provider on loopback. ``start()`` it, point a client at ``base_url``."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        storage_dir: Path | None = None,
    ) -> None:
        super().__init__(config)
        self._host = host
        self._requested_port = port
        self._storage_arg = storage_dir
        self._owns_storage = False
        self._threads: set[threading.Thread] = set()
        self._sockets: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._port = 0

    def __repr__(self) -> str:
        state = f"port={self._port}" if self._server is not None else "stopped"
        return f"Simulator({state})"

    # -- lifecycle

    def start(self) -> Simulator:
        if self._server is not None or self._stopping.is_set():
            raise RuntimeError("a Simulator can be started once")
        if self._storage_arg is None:
            self._storage = Path(tempfile.mkdtemp(prefix="kling-simulator-"))
            self._owns_storage = True
        else:
            self._storage = Path(self._storage_arg)
            self._owns_storage = not self._storage.exists()
            self._storage.mkdir(parents=True, exist_ok=True)
        (self._storage / "uploads").mkdir(exist_ok=True)
        try:
            self._server = _Server((self._host, self._requested_port), self)
        except OSError:
            self._remove_storage()
            raise
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"kling-simulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        log.info("simulator listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(5.0)
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5.0
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._server = None
        self._thread = None
        self._remove_storage()
        log.info("simulator on port %s stopped", self._port)

    def _remove_storage(self) -> None:
        if self._owns_storage and self._storage is not None:
            shutil.rmtree(self._storage, ignore_errors=True)

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the simulator is not started")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def storage_dir(self) -> Path | None:
        return self._storage

    # -- internals used by the handler

    def _track(self, thread: threading.Thread, *, add: bool) -> None:
        with self._lock:
            if add:
                self._threads.add(thread)
            else:
                self._threads.discard(thread)

    def _connection(self, sock: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._sockets.add(sock)
            else:
                self._sockets.discard(sock)


def serve(
    port: int,
    key: str | None,
    *,
    polls_until_done: int = 3,
    latency: float = 0.0,
    result_shape: str = "results_strings",
    estimated_time: int = 45,
    upload_accepts_video: bool = True,
    upload_bytes_per_second: float | None = None,
    download_bytes_per_second: float | None = None,
) -> int:
    """Run a simulator until SIGINT/SIGTERM; the CLI's ``kling-desktop simulator``.

    Prints ``Simulator listening on http://127.0.0.1:<port>`` once it accepts
    connections, and returns 0 after a clean stop (1 when the port cannot be bound).
    """
    config = SimulatorConfig(
        api_key=key or None,
        polls_until_done=polls_until_done,
        latency=latency,
        result_shape=result_shape,
        estimated_time=estimated_time,
        upload_accepts_video=upload_accepts_video,
        upload_bytes_per_second=upload_bytes_per_second,
        download_bytes_per_second=download_bytes_per_second,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        sim = Simulator(config, port=port)
        try:
            sim.start()
        except OSError as exc:
            print(f"Simulator cannot listen on port {port}: {exc.strerror or exc}",
                  file=sys.stderr, flush=True)
            return 1
        try:
            print(f"Simulator listening on {sim.base_url}", flush=True)
            while not stop.wait(0.25):
                pass
        finally:
            sim.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
