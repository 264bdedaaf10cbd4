"""The provider simulator, exercised over loopback with a plain httpx client.

No project client is used here: these tests pin the wire behaviour that the real
client (and its tests) rely on.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kling_desktop import paths
from kling_desktop.simulator import Fault, RequestRecord, Simulator, SimulatorConfig, serve
from kling_desktop.simulator.media import sniff, video_facts

REPO = Path(__file__).resolve().parents[1]
V3 = "kling-v3-motion-control"
# Loading the CA bundle costs ~0.2 s per httpx.Client: do it once for the module.
TLS = ssl.create_default_context()


def fetch(url: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(verify=TLS, timeout=10.0) as c:
        return c.get(url, **kwargs)


def send_post(url: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(verify=TLS, timeout=10.0) as c:
        return c.post(url, **kwargs)


# --------------------------------------------------------------------------- helpers


@dataclasses.dataclass(frozen=True)
class Media:
    png: Path
    mp4: Path
    other_mp4: Path


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True, timeout=60)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    folder = tmp_path_factory.mktemp("media")
    png, mp4, other = folder / "character.png", folder / "motion.mp4", folder / "sample.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=600x800", "-frames:v", "1", str(png))
    fast = ("-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast")
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=640x480:rate=24", "-t", "4", *fast, str(mp4))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=360x480:rate=12", "-t", "3", *fast, str(other))
    return Media(png, mp4, other)


@pytest.fixture
def client(sim: Simulator, api_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        verify=TLS,
        base_url=sim.base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10.0,
    ) as c:
        yield c


def upload(client: httpx.Client, path: Path, **data: str) -> httpx.Response:
    with path.open("rb") as f:
        return client.post(
            "/v1/files/upload/stream", files={"file": (path.name, f)}, data=data or None
        )


def create(client: httpx.Client, image_url: str, video_url: str, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"model": V3, "image_url": image_url, "video_url": video_url}
    body.update(extra)
    return client.post("/v1/videos/generations", json=body)


def poll_to_end(client: httpx.Client, task_id: str, limit: int = 20) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for _ in range(limit):
        r = client.get(f"/v1/tasks/{task_id}")
        assert r.status_code == 200, r.text
        seen.append(r.json())
        if seen[-1]["status"] in ("completed", "failed", "cancelled"):
            return seen
    raise AssertionError(f"task never finished: {seen[-1]}")


def result_url(task: dict[str, Any], shape: str) -> str:
    if shape == "results_strings":
        assert isinstance(task["results"][0], str)
        return str(task["results"][0])
    if shape == "results_objects":
        return str(task["results"][0]["url"])
    assert task["output"]["urls"] == [task["output"]["url"]]
    return str(task["output"]["url"])


def error_of(r: httpx.Response) -> dict[str, Any]:
    err = r.json()["error"]
    assert isinstance(err["message"], str)
    assert err["message"]
    assert isinstance(err["type"], str)
    return dict(err)


@pytest.fixture
def uploaded(client: httpx.Client, media: Media) -> tuple[str, str]:
    image = upload(client, media.png)
    video = upload(client, media.mp4)
    assert image.status_code == video.status_code == 200
    return image.json()["url"], video.json()["url"]


@pytest.fixture
def task_id(client: httpx.Client, uploaded: tuple[str, str]) -> str:
    r = create(client, *uploaded)
    assert r.status_code == 200
    return str(r.json()["id"])


def completed_result(client: httpx.Client, task_id: str) -> str:
    return result_url(poll_to_end(client, task_id)[-1], "results_strings")


# --------------------------------------------------------------------------- journey


@pytest.mark.parametrize("shape", ["results_strings", "results_objects", "output"])
def test_upload_create_poll_download_journey(
    sim: Simulator, client: httpx.Client, media: Media, shape: str
) -> None:
    sim.config.result_shape = shape
    sim.config.polls_until_done = 4
    image = upload(client, media.png, file_name="my character.png")
    assert image.status_code == 200, image.text
    info = image.json()
    assert info["id"].startswith("file-")
    assert info["filename"] == "my character.png"
    assert info["size"] == media.png.stat().st_size
    assert isinstance(info["created"], int)
    assert info["url"].startswith(f"{sim.base_url}/files/{info['id']}/")
    video = upload(client, media.mp4, auto_cleanup="false")
    assert video.status_code == 200, video.text
    assert video.json()["filename"] == "motion.mp4"

    # The uploaded files are served back as they were, without auth.
    assert fetch(info["url"]).content == media.png.read_bytes()

    created = create(client, info["url"], video.json()["url"], mode="pro", prompt="dance")
    assert created.status_code == 200, created.text
    task = created.json()
    assert task["id"].startswith("task-unified-")
    assert task["object"] == "video.generation.task"
    assert task["status"] == "pending"
    assert task["progress"] == 0
    assert task["model"] == V3
    assert task["task_info"] == {"can_cancel": True, "estimated_time": 45}
    assert isinstance(task["usage"], dict)
    assert task["usage"]["billable_seconds"] == pytest.approx(4.0)

    seen = poll_to_end(client, task["id"])
    assert [s["status"] for s in seen] == ["pending", "processing", "processing", "completed"]
    progress = [s["progress"] for s in seen]
    assert progress[0] == 0
    assert progress[-1] == 100
    assert progress == sorted(progress)
    assert len(set(progress)) == len(progress)
    final = seen[-1]
    url = result_url(final, shape)
    assert url == f"{sim.base_url}/results/{task['id']}.mp4"
    if shape == "output":
        assert final["output"]["duration"] == pytest.approx(4.0)
        assert (final["output"]["width"], final["output"]["height"]) == (640, 480)
    if shape == "results_objects":
        assert (final["results"][0]["width"], final["results"][0]["height"]) == (640, 480)

    # Completed stays completed.
    again = client.get(f"/v1/tasks/{task['id']}").json()
    assert again["status"] == "completed"
    assert result_url(again, shape) == url

    result = fetch(url)
    assert result.status_code == 200
    assert result.headers["content-type"] == "video/mp4"
    assert result.content == media.mp4.read_bytes()


def test_result_is_a_real_video(
    client: httpx.Client, task_id: str, media: Media, tmp_path: Path
) -> None:
    out = tmp_path / "result.mp4"
    out.write_bytes(fetch(completed_result(client, task_id)).content)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=codec_type,width,height", "-of", "json", str(out)],
        capture_output=True, text=True, check=True, timeout=30,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    assert stream == {"codec_type": "video", "width": 640, "height": 480}


def test_answers_carry_unknown_extra_fields(client: httpx.Client, task_id: str) -> None:
    documented = {"created", "id", "model", "object", "progress", "status", "task_info",
                  "type", "usage", "results", "output", "error"}
    body = client.get(f"/v1/tasks/{task_id}").json()
    assert set(body) - documented


def test_external_video_url_gives_the_sample_motion(
    client: httpx.Client, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "sample_motion", lambda: media.other_mp4)
    r = create(client, "https://example.com/me.png", "https://example.com/dance.mp4")
    assert r.status_code == 200
    assert r.json()["usage"]["billable_seconds"] == pytest.approx(3.0)
    assert fetch(completed_result(client, r.json()["id"])).content == (
        media.other_mp4.read_bytes()
    )


def test_missing_sample_motion_is_a_clear_404(
    client: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "sample_motion", lambda: tmp_path / "nope.mp4")
    r = create(client, "https://example.com/me.png", "http://example.com/dance.mp4")
    assert r.status_code == 200
    result = fetch(completed_result(client, r.json()["id"]))
    assert result.status_code == 404
    assert error_of(result)["type"] == "not_found"


def test_base64_upload(client: httpx.Client, media: Media) -> None:
    data = base64.b64encode(media.png.read_bytes()).decode()
    r = client.post("/v1/files/upload/base64", json={"file_data": data, "file_name": "a.png"})
    assert r.status_code == 200, r.text
    assert r.json()["filename"] == "a.png"
    assert r.json()["size"] == media.png.stat().st_size
    assert fetch(r.json()["url"]).content == media.png.read_bytes()
    with_prefix = client.post(
        "/v1/files/upload/base64", json={"file_data": f"data:image/png;base64,{data}"}
    )
    assert with_prefix.status_code == 200
    bad = client.post("/v1/files/upload/base64", json={"file_data": "***", "file_name": "a"})
    assert bad.status_code == 422
    assert error_of(bad)["type"] == "invalid_request_error"


def test_upload_needs_a_file_part(client: httpx.Client) -> None:
    r = client.post("/v1/files/upload/stream", files={"other": ("x.txt", b"hello")})
    assert r.status_code == 400
    assert error_of(r)["type"] == "invalid_request_error"
    not_multipart = client.post("/v1/files/upload/stream", content=b"raw")
    assert not_multipart.status_code == 400
    multipart = {"Content-Type": "multipart/form-data; boundary=xyz"}
    garbage = client.post("/v1/files/upload/stream", content=b"garbage", headers=multipart)
    assert garbage.status_code == 400
    unfinished = client.post(
        "/v1/files/upload/stream",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\n\x89PNG',
        headers=multipart,
    )
    assert unfinished.status_code == 400
    assert "Incomplete" in error_of(unfinished)["message"]


def test_uploads_that_only_accept_images(
    sim: Simulator, client: httpx.Client, media: Media, tmp_path: Path
) -> None:
    sim.config.upload_accepts_video = False
    refused = upload(client, media.mp4)
    assert refused.status_code == 415
    assert "only images" in error_of(refused)["message"]
    # Sniffed by content, not by name.
    disguised = tmp_path / "innocent.png"
    disguised.write_bytes(media.mp4.read_bytes())
    assert upload(client, disguised).status_code == 415
    b64 = base64.b64encode(media.mp4.read_bytes()).decode()
    r = client.post("/v1/files/upload/base64", json={"file_data": b64, "file_name": "v.mp4"})
    assert r.status_code == 415
    assert upload(client, media.png).status_code == 200
    # The refused bodies were consumed: the same connection keeps working.
    assert sim.count("upload", 415) == 3


def test_large_streamed_upload_keeps_memory_bounded(sim: Simulator, client: httpx.Client) -> None:
    size = 120 * 1024 * 1024
    boundary = "simtestboundary"
    block = b"\0" * (1024 * 1024)
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
        f"filename=\"big.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = (
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file_name\"\r\n\r\n"
        f"big.mp4\r\n--{boundary}--\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        yield b"\0\0\0\x18ftypmp42" + block[12:]
        for _ in range(size // len(block) - 1):
            yield block
        yield tail

    tracemalloc.start()
    try:
        r = client.post(
            "/v1/files/upload/stream",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=60.0,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 200, r.text
    assert r.json()["size"] == size
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak / 1e6:.1f} MB"
    storage = sim.storage_dir
    assert storage is not None
    stored = storage / "uploads" / r.json()["id"] / "big.mp4"
    assert stored.stat().st_size == size


def test_client_gone_mid_upload_leaves_nothing_behind(sim: Simulator, api_key: str) -> None:
    head = (
        "POST /v1/files/upload/stream HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {api_key}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n"
        '--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
    ).encode()
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as raw:
        raw.sendall(head + b"\0\0\0\x18ftypmp42" + b"\0" * 5000)
    deadline = time.monotonic() + 5
    while sim.count("upload") == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sim.requests[0].status == 499
    storage = sim.storage_dir
    assert storage is not None
    assert list((storage / "uploads").iterdir()) == []


def test_head_of_a_result(client: httpx.Client, task_id: str, media: Media) -> None:
    url = completed_result(client, task_id)
    with httpx.Client(verify=TLS, timeout=10.0) as plain:
        r = plain.head(url)
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == media.mp4.stat().st_size
    assert r.content == b""


def test_media_sniffing_and_facts(media: Media) -> None:
    assert sniff(media.png.read_bytes()[:16]) == "png"
    assert sniff(media.mp4.read_bytes()[:16]) == "mp4"
    assert sniff(b"\xff\xd8\xff\xe0" + b"\0" * 12) == "jpeg"
    assert sniff(b"\0\0\0\x14ftypqt  \0\0\0\0") == "mov"
    assert sniff(b"\x1a\x45\xdf\xa3" + b"\0" * 12) == "webm"
    assert sniff(b"hello world, plain text") is None
    facts = video_facts(media.mp4)  # ffmpeg writes moov after mdat
    assert facts.duration == pytest.approx(4.0)
    assert (facts.width, facts.height) == (640, 480)
    assert video_facts(media.png).duration is None


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer nope", "Basic {key}", "Bearer {key}x", "bearer{key}"],
    ids=["missing", "empty", "empty-bearer", "wrong", "wrong-scheme", "longer", "no-space"],
)
def test_api_refuses_without_the_right_key(
    sim: Simulator, media: Media, api_key: str, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header.format(key=api_key)}
    with httpx.Client(verify=TLS, base_url=sim.base_url, headers=headers, timeout=10.0) as c:
        answers = [
            upload(c, media.png),
            c.post("/v1/files/upload/base64", json={"file_data": "aGk=", "file_name": "x"}),
            create(c, "https://x/a.png", "https://x/b.mp4"),
            c.get("/v1/tasks/task-unknown"),
        ]
    for r in answers:
        assert r.status_code == 401
        assert error_of(r)["type"] == "authentication_error"
    assert sim.count("any", 401) == 4
    assert sim.task_ids == []


def test_files_and_results_need_no_key(
    client: httpx.Client, uploaded: tuple[str, str], task_id: str
) -> None:
    assert fetch(uploaded[0]).status_code == 200
    assert fetch(completed_result(client, task_id)).status_code == 200


def test_any_key_when_none_is_configured(tmp_path: Path) -> None:
    with Simulator(SimulatorConfig(api_key=None), storage_dir=tmp_path / "s") as sim:
        ok = fetch(f"{sim.base_url}/v1/tasks/t-1", headers={"Authorization": "Bearer x"})
        assert ok.status_code == 404
        empty = fetch(f"{sim.base_url}/v1/tasks/t-1", headers={"Authorization": "Bearer"})
        assert empty.status_code == 401


def test_the_key_is_never_logged_nor_in_a_repr(
    sim: Simulator,
    client: httpx.Client,
    task_id: str,
    caplog: pytest.LogCaptureFixture,
    api_key: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="kling_desktop.simulator")
    sim.inject("task", Fault.unauthorized())
    client.get(f"/v1/tasks/{task_id}")
    client.get(f"/v1/tasks/{task_id}")
    fetch(f"{sim.base_url}/v1/tasks/{task_id}", headers={"Authorization": "Bearer bad"})
    assert caplog.records
    assert api_key not in caplog.text
    assert api_key not in repr(sim.config)
    assert api_key not in repr(sim)


# --------------------------------------------------------------------------- validation


def test_create_refuses_non_json(client: httpx.Client) -> None:
    wrong_type = client.post(
        "/v1/videos/generations",
        content=json.dumps({"model": V3}),
        headers={"Content-Type": "text/plain"},
    )
    assert wrong_type.status_code == 400
    assert error_of(wrong_type)["type"] == "invalid_request_error"
    broken = client.post(
        "/v1/videos/generations",
        content=b'{"model": ',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert error_of(broken)["type"] == "invalid_request_error"
    array = client.post("/v1/videos/generations", json=[1, 2])
    assert array.status_code == 400


GOOD = {"model": V3, "image_url": "https://x.test/a.png", "video_url": "https://x.test/b.mp4"}


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"model": "kling-v1"}, "model"),
        ({"model": None}, "model"),
        ({"image_url": None}, "image_url"),
        ({"image_url": "ftp://x.test/a.png"}, "image_url"),
        ({"image_url": "not a url"}, "image_url"),
        ({"image_url": 5}, "image_url"),
        ({"video_url": None}, "video_url"),
        ({"video_url": "file:///tmp/b.mp4"}, "video_url"),
        ({"mode": "ultra"}, "mode"),
        ({"mode": 1}, "mode"),
        ({"prompt": "x" * 2501}, "prompt"),
        ({"prompt": ["dance"]}, "prompt"),
        ({"character_orientation": "portrait"}, "character_orientation"),
        ({"keep_original_sound": True}, "keep_original_sound"),
        ({"keep_original_sound": False}, "keep_original_sound"),
        ({"keep_original_sound": "maybe"}, "keep_original_sound"),
    ],
)
def test_create_validates_each_field(
    sim: Simulator, client: httpx.Client, change: dict[str, Any], param: str
) -> None:
    body = {**GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post("/v1/videos/generations", json=body)
    assert r.status_code == 422, r.text
    err = error_of(r)
    assert err["type"] == "invalid_request_error"
    assert param in err["message"]
    assert sim.task_ids == []


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"model": "kling-v2-6-motion-control"},
        {"mode": "pro", "character_orientation": "video", "keep_original_sound": "no"},
        {"mode": "std", "character_orientation": "image", "keep_original_sound": "yes"},
        {"prompt": "x" * 2500},
        {"prompt": "跳舞", "something_new": 1},
        {"video_url": "http://127.0.0.1:9/b.mp4"},
    ],
)
def test_create_accepts_valid_bodies(client: httpx.Client, change: dict[str, Any]) -> None:
    r = client.post("/v1/videos/generations", json={**GOOD, **change})
    assert r.status_code == 200, r.text
    assert r.json()["model"] == change.get("model", V3)


def test_unknown_task_and_path(client: httpx.Client) -> None:
    r = client.get("/v1/tasks/task-unified-0-nothing")
    assert r.status_code == 404
    assert error_of(r)["type"] == "not_found"
    assert client.get("/v1/nothing").status_code == 404
    assert client.get("/v1/videos/generations").status_code == 405
    assert client.get("/files/file-none/x.png").status_code == 404
    assert client.get("/results/task-none.mp4").status_code == 404


def test_result_is_not_served_before_completion(client: httpx.Client, task_id: str) -> None:
    assert client.get(f"/results/{task_id}.mp4").status_code == 404


# --------------------------------------------------------------------------- tasks


def test_immediate_completion(sim: Simulator, client: httpx.Client) -> None:
    sim.config.polls_until_done = 1
    tid = create(client, GOOD["image_url"], GOOD["video_url"]).json()["id"]
    assert [s["status"] for s in poll_to_end(client, tid)] == ["completed"]


@pytest.mark.parametrize("where", ["error", "task_status_msg", "fail_reason", "none"])
def test_fail_next_task(sim: Simulator, client: httpx.Client, where: str) -> None:
    sim.fail_next_task(code="content_policy", message="The image was flagged", field=where)
    failing = create(client, GOOD["image_url"], GOOD["video_url"]).json()["id"]
    normal = create(client, GOOD["image_url"], GOOD["video_url"]).json()["id"]
    seen = poll_to_end(client, failing)
    final = seen[-1]
    assert final["status"] == "failed"
    assert [s["status"] for s in seen[:-1]] == ["pending", "processing"]
    for key in ("results", "output"):
        assert key not in final
    reasons = {k: final.get(k) for k in ("error", "task_status_msg", "fail_reason")}
    if where == "error":
        assert reasons["error"] == {
            "code": "content_policy", "message": "The image was flagged", "type": "task_error"
        }
    elif where == "none":
        assert reasons == {"error": None, "task_status_msg": None, "fail_reason": None}
    else:
        assert reasons[where] == "The image was flagged"
        assert reasons["error"] is None
    assert client.get(f"/v1/tasks/{failing}").json()["status"] == "failed"
    assert poll_to_end(client, normal)[-1]["status"] == "completed"
    assert fetch(f"{sim.base_url}/results/{failing}.mp4").status_code == 404


def test_fail_next_task_checks_the_field(sim: Simulator) -> None:
    with pytest.raises(ValueError):
        sim.fail_next_task(field="elsewhere")


# --------------------------------------------------------------------------- faults


def test_rate_limited_with_retry_after(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    sim.inject("task", Fault.rate_limited(retry_after=2.0), times=2)
    for _ in range(2):
        r = client.get(f"/v1/tasks/{task_id}")
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "2"
        assert error_of(r)["type"] == "rate_limit_error"
    assert client.get(f"/v1/tasks/{task_id}").json()["status"] == "pending"
    sim.inject("task", Fault.rate_limited(retry_after=0.25))
    assert client.get(f"/v1/tasks/{task_id}").headers["Retry-After"] == "0.25"


@pytest.mark.parametrize(
    ("fault", "status", "error_type"),
    [
        (Fault.unavailable(), 503, "service_unavailable_error"),
        (Fault.server_error(), 500, "server_error"),
        (Fault.unauthorized(), 401, "authentication_error"),
        (Fault.no_balance(), 402, "insufficient_quota"),
        (Fault.no_channel(), 422, "service_unavailable_error"),
    ],
)
def test_error_faults_on_create(
    sim: Simulator, client: httpx.Client, fault: Fault, status: int, error_type: str
) -> None:
    sim.inject("create", fault)
    r = create(client, GOOD["image_url"], GOOD["video_url"])
    assert r.status_code == status
    assert error_of(r)["type"] == error_type
    assert sim.task_ids == []  # refused: nothing was created
    if fault == Fault.no_channel():
        assert error_of(r)["message"] == f"no available channel for model {V3}"
    assert create(client, GOOD["image_url"], GOOD["video_url"]).status_code == 200
    assert len(sim.task_ids) == 1


def test_accept_anyway_creates_the_task(sim: Simulator, client: httpx.Client) -> None:
    sim.inject("create", dataclasses.replace(Fault.server_error(), accept_anyway=True))
    r = create(client, GOOD["image_url"], GOOD["video_url"])
    assert r.status_code == 500
    assert error_of(r)["type"] == "server_error"
    assert len(sim.task_ids) == 1
    assert poll_to_end(client, sim.task_ids[0])[-1]["status"] == "completed"


def test_garbage_answer(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    sim.inject("task", Fault.garbage())
    r = client.get(f"/v1/tasks/{task_id}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert client.get(f"/v1/tasks/{task_id}").json()["id"] == task_id


def test_fault_on_any_route_hits_the_next_call(
    sim: Simulator, client: httpx.Client, media: Media
) -> None:
    sim.inject("any", Fault.unavailable())
    assert upload(client, media.png).status_code == 503
    assert upload(client, media.png).status_code == 200
    with pytest.raises(ValueError):
        sim.inject("everything", Fault.unavailable())


def test_refused_upload_keeps_the_connection_usable(
    sim: Simulator, media: Media, api_key: str
) -> None:
    sim.inject("upload", Fault.rate_limited())
    payload = media.mp4.read_bytes()
    body = (
        b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.mp4\"\r\n\r\n"
        + payload + b"\r\n--b--\r\n"
    )
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {api_key}",
                   "Content-Type": "multipart/form-data; boundary=b"}
        conn.request("POST", "/v1/files/upload/stream", body=body, headers=headers)
        first = conn.getresponse()
        assert first.status == 429
        assert json.loads(first.read())["error"]["type"] == "rate_limit_error"
        assert not first.will_close
        sock = conn.sock
        conn.request("POST", "/v1/files/upload/stream", body=body, headers=headers)
        second = conn.getresponse()
        assert second.status == 200
        assert json.loads(second.read())["size"] == len(payload)
        assert conn.sock is sock  # keep-alive: the same connection served both
    finally:
        conn.close()


def test_cut_download_then_resume_with_range(
    sim: Simulator, client: httpx.Client, task_id: str, media: Media
) -> None:
    url = completed_result(client, task_id)
    data = media.mp4.read_bytes()
    sim.inject("download", Fault.cut_download(1000))
    received = bytearray()

    def read_into(r: httpx.Response) -> None:
        for chunk in r.iter_raw():
            received.extend(chunk)

    with httpx.Client(verify=TLS, timeout=10.0) as plain:
        with plain.stream("GET", url) as r:
            assert r.status_code == 200
            assert int(r.headers["Content-Length"]) == len(data)
            with pytest.raises(httpx.RemoteProtocolError):
                read_into(r)
        assert bytes(received) == data[:1000]
        rest = plain.get(url, headers={"Range": f"bytes={len(received)}-"})
    assert rest.status_code == 206
    assert bytes(received) + rest.content == data


def test_cut_json_answer(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    sim.inject("task", Fault(200, cut_after=10))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/v1/tasks/{task_id}")
    # The cut answer was processed (first poll), the next one is the second.
    assert client.get(f"/v1/tasks/{task_id}").json()["status"] == "processing"


def test_raw_body_fault(sim: Simulator, client: httpx.Client, task_id: str) -> None:
    sim.inject("task", Fault(502, body=b"", content_type="text/plain"))
    r = client.get(f"/v1/tasks/{task_id}")
    assert r.status_code == 502
    assert r.content == b""


# --------------------------------------------------------------------------- files


def test_range_requests(client: httpx.Client, task_id: str, media: Media) -> None:
    url = completed_result(client, task_id)
    data = media.mp4.read_bytes()
    size = len(data)
    full = fetch(url)
    assert full.headers["Accept-Ranges"] == "bytes"
    tail = fetch(url, headers={"Range": "bytes=100-"})
    assert tail.status_code == 206
    assert tail.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
    assert tail.content == data[100:]
    head = fetch(url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206
    assert head.content == data[:100]
    suffix = fetch(url, headers={"Range": "bytes=-10"})
    assert suffix.content == data[-10:]
    beyond = fetch(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"


def test_download_throttle(
    sim: Simulator, client: httpx.Client, task_id: str, media: Media
) -> None:
    url = completed_result(client, task_id)
    size = media.mp4.stat().st_size
    sim.config.download_bytes_per_second = size / 0.3  # the whole file in ~0.3 s
    started = time.monotonic()
    assert len(fetch(url).content) == size
    assert time.monotonic() - started >= 0.25


def test_upload_throttle(sim: Simulator, client: httpx.Client, media: Media) -> None:
    sim.config.upload_bytes_per_second = media.mp4.stat().st_size / 0.3
    started = time.monotonic()
    assert upload(client, media.mp4).status_code == 200
    assert time.monotonic() - started >= 0.25


def test_latency(sim: Simulator, client: httpx.Client) -> None:
    sim.config.latency = 0.3
    started = time.monotonic()
    assert client.get("/v1/tasks/none").status_code == 404
    assert time.monotonic() - started >= 0.3


# --------------------------------------------------------------------------- log


def test_request_log(sim: Simulator, client: httpx.Client, media: Media) -> None:
    image = upload(client, media.png).json()["url"]
    video = upload(client, media.mp4).json()["url"]
    sim.inject("task", Fault.unavailable())
    tid = create(client, image, video).json()["id"]
    client.get(f"/v1/tasks/{tid}")
    url = completed_result(client, tid)
    fetch(url)
    fetch(image)
    assert sim.count("upload") == 2
    assert sim.count("create", 200) == 1
    assert sim.count("task") == 4
    assert sim.count("task", 503) == 1
    assert sim.count("task", 200) == 3
    assert sim.count("download") == 1
    assert sim.count("file") == 1
    assert sim.count("any") == 9
    records = sim.requests
    assert all(isinstance(r, RequestRecord) for r in records)
    assert records[2].method == "POST"
    assert records[2].path == "/v1/videos/generations"
    assert records[3] == RequestRecord("GET", f"/v1/tasks/{tid}", "task", 503, records[3].time)
    times = [r.time for r in records]
    assert times == sorted(times)
    records.clear()
    assert len(sim.requests) == 9
    sim.reset_log()
    assert sim.requests == []
    assert sim.count("any") == 0


def test_request_log_is_thread_safe(sim: Simulator) -> None:
    def worker() -> None:
        with httpx.Client(verify=TLS, base_url=sim.base_url, timeout=10.0) as c:
            for _ in range(10):
                c.get("/v1/tasks/none")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sim.count("task", 401) == 40


# --------------------------------------------------------------------------- lifecycle


def _simulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kling-simulator")]


def test_stop_leaves_no_thread_and_removes_its_storage(media: Media) -> None:
    sim = Simulator().start()
    storage = sim.storage_dir
    assert storage is not None
    assert storage.is_dir()
    port = sim.port
    idle = httpx.Client(verify=TLS, base_url=sim.base_url, headers={"Authorization": "Bearer any"})
    try:
        assert upload(idle, media.png).status_code == 200  # an idle keep-alive connection
        assert _simulator_threads()
        sim.stop()
    finally:
        idle.close()
    assert not _simulator_threads()
    assert not storage.exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    sim.stop()  # idempotent
    with pytest.raises(RuntimeError):
        sim.start()


def test_stop_interrupts_a_throttled_download(
    tmp_path: Path, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paths, "sample_motion", lambda: media.mp4)
    sim = Simulator(SimulatorConfig(polls_until_done=1, download_bytes_per_second=1000))
    with sim:
        headers = {"Authorization": "Bearer k"}
        r = send_post(f"{sim.base_url}/v1/videos/generations", json=GOOD, headers=headers)
        tid = r.json()["id"]
        fetch(f"{sim.base_url}/v1/tasks/{tid}", headers=headers)
        errors: list[BaseException] = []

        def download() -> None:
            try:
                fetch(f"{sim.base_url}/results/{tid}.mp4", timeout=10.0)
            except httpx.HTTPError as exc:
                errors.append(exc)

        t = threading.Thread(target=download)
        t.start()
        deadline = time.monotonic() + 5  # until the throttled answer is being written
        while sim.count("download") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
    assert time.monotonic() - started < 2.0
    t.join(5)
    assert errors
    assert not _simulator_threads()


def test_given_storage_dir(tmp_path: Path, media: Media) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    with Simulator(storage_dir=existing) as sim:
        c = httpx.Client(verify=TLS, base_url=sim.base_url, headers={"Authorization": "Bearer k"})
        with c:
            assert upload(c, media.png).status_code == 200
    assert existing.is_dir()  # not ours to delete
    fresh = tmp_path / "fresh" / "sim"
    with Simulator(storage_dir=fresh):
        assert fresh.is_dir()
    assert not fresh.exists()


def test_port_and_base_url_need_a_started_simulator() -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError):
        _ = sim.base_url
    with pytest.raises(ValueError):
        Simulator(SimulatorConfig(result_shape="nested"))


def test_serve_prints_the_address_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                                     os.environ.get("PYTHONPATH")]))}
    code = (
        "from kling_desktop.simulator import serve; "
        "raise SystemExit(serve(0, 'serve-key', polls_until_done=1))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        prefix = "Simulator listening on http://127.0.0.1:"
        assert line.startswith(prefix), line
        port = int(line[len(prefix):])
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": "Bearer serve-key"}
        r = send_post(f"{base}/v1/videos/generations", json=GOOD, headers=headers)
        assert r.status_code == 200
        assert fetch(f"{base}/v1/tasks/{r.json()['id']}", headers=headers).json()[
            "status"] == "completed"
        assert fetch(f"{base}/v1/tasks/x", headers={"Authorization": "Bearer no"}
                         ).status_code == 401
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert err == ""
    assert out == ""
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_serve_in_process_stops_on_sigint(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    answers: list[int] = []

    def poke_then_interrupt() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                answers.append(fetch(f"http://127.0.0.1:{port}/v1/tasks/x").status_code)
                break
            except httpx.TransportError:
                time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)  # serve() has its handler installed by now

    helper = threading.Thread(target=poke_then_interrupt)
    helper.start()
    try:
        assert serve(port, "k", result_shape="output") == 0
    finally:
        helper.join()
    assert answers == [401]
    assert capsys.readouterr().out == f"Simulator listening on http://127.0.0.1:{port}\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_serve_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert serve(busy.getsockname()[1], None) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "cannot listen on port" in captured.err
