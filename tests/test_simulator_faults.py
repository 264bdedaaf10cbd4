"""The simulator's hostile faults, pinned at the wire with a plain httpx client.

Each fault must be bounded: an endless or dribbling answer stops once the client
hangs up, and after a hard limit in any case.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
import zlib
from collections.abc import Iterator

import httpx
import pytest

from kling_desktop import paths
from kling_desktop.simulator import Fault, Simulator, SimulatorConfig
from kling_desktop.simulator import server as sim_server

KEY = "sk-faults-0123456789"
BODY = {"model": "kling-v3-motion-control", "image_url": "https://example.com/a.png",
        "video_url": "https://example.com/b.mp4"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(api_key=KEY, polls_until_done=1)) as simulator:
        yield simulator


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, headers={"Authorization": f"Bearer {KEY}"},
                      timeout=10.0) as c:
        yield c


@pytest.fixture
def task_id(client: httpx.Client) -> str:
    created = client.post("/v1/videos/generations", json=BODY)
    assert created.status_code == 200
    return str(created.json()["id"])


def wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_html_and_empty_results(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    client.get(f"/v1/tasks/{task_id}")
    sim.inject("download", Fault.garbage())
    sim.inject("download", Fault.empty())
    page = client.get(f"/results/{task_id}.mp4")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    empty = client.get(f"/results/{task_id}.mp4")
    assert (empty.status_code, empty.content) == (200, b"")
    assert empty.headers["content-type"] == "video/mp4"


def test_endless_result_stops_when_the_client_hangs_up(
    sim: Simulator, client: httpx.Client, task_id: str
) -> None:
    client.get(f"/v1/tasks/{task_id}")
    sim.inject("download", Fault.endless())
    received = 0
    with client.stream("GET", f"/results/{task_id}.mp4") as response:
        assert "content-length" not in response.headers
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > 8 * 1024 * 1024:
                break
    assert received > 8 * 1024 * 1024
    client.close()
    wait_for(lambda: sim.count("download") == 1)
    wait_for(lambda: not sim._threads)


def test_endless_and_dribble_have_a_hard_limit(
    sim: Simulator, client: httpx.Client, task_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim_server, "HOSTILE_LIMIT_SECONDS", 0.5)
    sim.inject("task", Fault.dribble(0.1))
    started = time.monotonic()
    with pytest.raises(httpx.HTTPError):
        client.get(f"/v1/tasks/{task_id}")
    assert time.monotonic() - started < 3.0


def test_gzip_bomb(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    client.get(f"/v1/tasks/{task_id}")
    sim.inject("download", Fault.gzip_bomb(16 * 1024 * 1024))
    with client.stream("GET", f"/results/{task_id}.mp4") as response:
        assert response.headers["content-encoding"] == "gzip"
        raw = b"".join(response.iter_raw())
    assert len(raw) < 200 * 1024
    assert len(gzip.decompress(raw)) >= 16 * 1024 * 1024


def test_dribble_sends_one_byte_at_a_time(sim: Simulator, task_id: str) -> None:
    sim.inject("task", Fault.dribble(0.05))
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as sock:
        sock.sendall(f"GET /v1/tasks/{task_id} HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {KEY}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        started = time.monotonic()
        pieces = [sock.recv(100) for _ in range(5)]
    assert all(len(p) == 1 for p in pieces)
    assert time.monotonic() - started >= 0.15


def test_dribble_stops_when_the_client_hangs_up(sim: Simulator, task_id: str) -> None:
    sim.inject("task", Fault.dribble(0.05))
    idle = len(sim._threads)  # the fixture's keep-alive connection
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as sock:
        sock.sendall(f"GET /v1/tasks/{task_id} HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {KEY}\r\n\r\n".encode())
        sock.recv(200)
    wait_for(lambda: len(sim._threads) <= idle, timeout=3.0)


def test_redirect(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    sim.inject("download", Fault.redirect("http://example.invalid/out.mp4"))
    sim.inject("download", Fault.redirect("https://cdn.example/out.mp4", status=307))
    first = client.get(f"/results/{task_id}.mp4")
    second = client.get(f"/results/{task_id}.mp4")
    assert (first.status_code, first.headers["location"]) == (302, "http://example.invalid/out.mp4")
    assert (second.status_code, second.headers["location"]) == (307, "https://cdn.example/out.mp4")


def test_patched_answers(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    sim.inject("create", Fault.patched(id=".."))
    assert client.post("/v1/videos/generations", json=BODY).json()["id"] == ".."
    sim.inject("task", Fault.patched(status="queued", usage={"credits_reserved": 5},
                                     final_unit_deduction="3", model="other"))
    body = client.get(f"/v1/tasks/{task_id}").json()
    assert (body["status"], body["usage"], body["final_unit_deduction"], body["model"]) == (
        "queued", {"credits_reserved": 5}, "3", "other")
    sim.inject("task", Fault.patched(status="completed", drop=("results", "output")))
    body = client.get(f"/v1/tasks/{task_id}").json()
    assert body["status"] == "completed"
    assert "results" not in body
    assert "output" not in body


def test_failure_in_every_field(sim: Simulator, client: httpx.Client) -> None:
    sim.fail_next_task(code=KEY, message=KEY, error_type=KEY, field="all")
    created = client.post("/v1/videos/generations", json=BODY).json()
    body = client.get(f"/v1/tasks/{created['id']}").json()
    assert body["status"] == "failed"
    assert body["error"] == {"code": KEY, "message": KEY, "type": KEY}
    assert body["task_status_msg"] == body["fail_reason"] == KEY


def test_fresh_result_links(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    sim.config.fresh_result_links = True
    first = client.get(f"/v1/tasks/{task_id}").json()["results"][0]
    second = client.get(f"/v1/tasks/{task_id}").json()["results"][0]
    assert first != second
    assert first.endswith("?v=1")
    assert second.endswith("?v=2")
    assert client.get(second).content == paths.sample_motion().read_bytes()


def test_ranges_can_be_ignored(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    client.get(f"/v1/tasks/{task_id}")
    sim.config.serve_ranges = False
    answer = client.get(f"/results/{task_id}.mp4", headers={"Range": "bytes=10-"})
    assert answer.status_code == 200
    assert answer.content == paths.sample_motion().read_bytes()


def test_log_records_query_and_authorization(
    sim: Simulator, client: httpx.Client, task_id: str
) -> None:
    client.get(f"/v1/tasks/{task_id}", params={"sync_upstream": "true"})
    httpx.get(f"{sim.base_url}/results/{task_id}.mp4")
    polls = sim.requests
    assert (polls[1].query, polls[1].authorized) == ("sync_upstream=true", True)
    assert (polls[2].route, polls[2].authorized) == ("download", False)


def test_cut_result_can_be_resumed(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    client.get(f"/v1/tasks/{task_id}")
    sim.config.download_bytes_per_second = 2_000_000
    sim.inject("download", Fault.cut_download(50_000))
    with pytest.raises(httpx.HTTPError):
        client.get(f"/results/{task_id}.mp4")
    rest = client.get(f"/results/{task_id}.mp4", headers={"Range": "bytes=50000-"})
    assert rest.status_code == 206
    source = paths.sample_motion().read_bytes()
    assert rest.content == source[50_000:]


def test_gzip_bomb_is_real_gzip_of_json_size() -> None:
    fault = Fault.gzip_bomb(1024 * 1024)
    assert fault.body is not None
    assert len(zlib.decompress(fault.body, 16 + zlib.MAX_WBITS)) == 1024 * 1024
    assert ("Content-Encoding", "gzip") in fault.headers
    json.dumps(fault.status)
