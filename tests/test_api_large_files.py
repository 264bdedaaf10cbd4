"""A video larger than the provider's 100 MB limit goes up and comes back with bounded memory.

The simulator runs in this process and streams too, so tracemalloc's peak covers
both ends of the connection.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from kling_desktop.api import CancelledError, KlingClient, RetryPolicy
from kling_desktop.api.transfer import WRITE_BEHIND_THREAD, WriteBehind
from kling_desktop.simulator import Simulator

SIZE = 110 * 1024 * 1024
MEMORY_CEILING = 16 * 1024 * 1024


def sparse_video(path: Path) -> bytes:
    """A sparse file: an MP4 ``ftyp`` box, random islands, holes in between; returns its digest."""
    with path.open("wb") as f:
        f.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
        for offset in (1024 * 1024, SIZE // 2, SIZE - 512 * 1024):
            f.seek(offset)
            f.write(os.urandom(256 * 1024))
        f.truncate(SIZE)
    return sha256_of(path)


def sha256_of(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.digest()


@pytest.mark.slow
def test_upload_and_download_beyond_100_mb_in_bounded_memory(
    sim: Simulator, api_key: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.mp4"
    expected = sparse_video(source)
    dest = tmp_path / "back" / "big.mp4"
    uploaded_progress: list[int] = []
    downloaded_progress: list[int] = []

    tracemalloc.start()
    try:
        with KlingClient(sim.base_url, api_key, retry=RetryPolicy(max_attempts=1)) as client:
            uploaded = client.upload_file(
                source, progress=lambda done, total: uploaded_progress.append(done)
            )
            client.download(
                uploaded.url, dest, progress=lambda done, total: downloaded_progress.append(done)
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert uploaded.size == SIZE
    assert uploaded_progress[-1] == downloaded_progress[-1] == SIZE
    assert peak < MEMORY_CEILING, f"peak {peak / 1e6:.1f} MB while moving {SIZE / 1e6:.0f} MB"
    assert dest.stat().st_size == SIZE
    assert sha256_of(dest) == expected
    assert sorted(p.name for p in dest.parent.iterdir()) == ["big.mp4"]


def test_downloads_read_the_socket_in_large_pieces() -> None:
    # httpcore reads 64 KiB per socket call by default; its receive buffer then copies
    # every piece twice. 1 MiB reads took a 1 GiB loopback download from 0.84x curl's
    # throughput to 1.16x (benchmarks/bench_download.py).
    from httpcore._sync.http11 import HTTP11Connection

    from kling_desktop.api.client import make_http_client

    make_http_client().close()
    assert HTTP11Connection.READ_NUM_BYTES >= 1024 * 1024


# ------------------------------------------------------------ WriteBehind


def writer_threads() -> list[threading.Thread]:
    """The download writers still running (none once a download or a block has ended)."""
    return [t for t in threading.enumerate() if t.name == WRITE_BEHIND_THREAD]


class _SlowFile(io.BytesIO):
    """A file whose writes take a while (a slow disk), and may fail after ``fail_after``."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.fail_after = fail_after
        self.calls = 0
        self.started = threading.Event()

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.started.set()
        time.sleep(0.002)
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def test_write_behind_writes_every_piece_in_order_before_the_block_ends() -> None:
    target = _SlowFile()
    pieces = [bytes([n]) * (1000 + n) for n in range(50)]
    _write_all(target, pieces, depth=3)
    assert target.getvalue() == b"".join(pieces)
    assert not writer_threads()


def _write_all(target: _SlowFile, pieces: list[bytes], depth: int) -> None:
    with WriteBehind(target, depth=depth) as out:
        for piece in pieces:
            out.write(piece)


def _cancel_after_two_pieces(target: _SlowFile) -> None:
    with WriteBehind(target, depth=4) as out:
        out.write(b"a")
        out.write(b"b")
        target.started.wait(5)
        raise CancelledError()


def test_write_behind_raises_a_failed_write_and_never_waits_forever() -> None:
    target = _SlowFile(fail_after=2)
    with pytest.raises(OSError) as caught:   # raised by a later write or on leaving
        _write_all(target, [b"x" * 100] * 20, depth=2)
    assert caught.value.errno == errno.ENOSPC
    assert target.getvalue() == b"x" * 200   # nothing after the failure reached the file
    assert not writer_threads()


def test_write_behind_lets_the_readers_own_error_win() -> None:
    # A cancel (or a too-large answer) leaving the block is what the caller sees, even
    # when a write failed too; the pieces already handed over are written first.
    target = _SlowFile(fail_after=1)
    with pytest.raises(CancelledError):
        _cancel_after_two_pieces(target)
    assert target.getvalue() == b"a"
    assert not writer_threads()
