"""Download throughput: the app's client against ``curl``, 1 GiB from a static loopback server.

A static HTTP server (Python's ``http.server``, sending the file with ``sendfile`` so the
server is not what limits either side) runs in its own process on 127.0.0.1 and serves
one 1 GiB result (an MP4's first bytes, then a sparse file: the page cache serves it).
Each round fetches it with ``curl`` and with ``KlingClient.download`` (in a fresh child
process), alternately, so drift hits both alike; each time includes the fsync of the
written file (the client fsyncs before renaming, curl's file is fsynced after it exits).
The client's memory: its child's peak RSS minus its RSS just before the download.

Printed: each side's median throughput (MB/s), the ratio (target: the client >= 0.9x
curl) and the client's RSS growth (target: <= 32 MB).

    .venv/bin/python benchmarks/bench_download.py [--rounds 6] [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET = 0.9
RSS_TARGET_MB = 32.0

SERVER = r"""
import http.server, os, sys

class Handler(http.server.SimpleHTTPRequestHandler):
    def copyfile(self, source, outputfile):
        self.connection.sendfile(source)        # zero-copy: the server is not the limit
    def log_message(self, *args):
        pass

os.chdir(sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

CLIENT = r"""
import os, resource, sys, time
from pathlib import Path
from kling_desktop.api.client import KlingClient

url, dest = sys.argv[1], Path(sys.argv[2])
base = url.split("/results/")[0]

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

with KlingClient(base, "bench-key-not-real") as client:
    before = rss_mb()
    started = time.perf_counter()
    client.download(url, dest, max_bytes=4 * 2**30, resume=False)
    elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{elapsed} {peak - before}", flush=True)
"""


def make_result(folder: Path, size: int) -> Path:
    """A ``size``-byte MP4-looking file: the sample clip's first bytes, then a hole."""
    from kling_desktop.paths import sample_motion

    results = folder / "results"
    results.mkdir()
    path = results / "big.mp4"
    head = sample_motion().read_bytes()[:65536]
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def start_server(root: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(root)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    return proc, port


def fetch_curl(url: str, dest: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-o", str(dest), url], check=True)
    fd = os.open(dest, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return time.perf_counter() - started


def fetch_client(url: str, dest: Path) -> tuple[float, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", CLIENT, url, str(dest)], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the client failed:\n{done.stderr[-3000:]}")
    elapsed, growth = done.stdout.split()
    return float(elapsed), float(growth)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_mib * 2**20
    if shutil.which("curl") is None:
        print("curl is needed (apt install curl)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="kling-bench-dl-") as tmp:
        folder = Path(tmp)
        make_result(folder, size)
        server, port = start_server(folder)
        url = f"http://127.0.0.1:{port}/results/big.mp4"
        curl_s: list[float] = []
        client_s: list[float] = []
        growth: list[float] = []
        try:
            fetch_curl(url, folder / "warm.mp4")        # the server's page cache, once
            (folder / "warm.mp4").unlink()
            for round_no in range(args.rounds):
                # ABBA order: each side goes first in every other round. Here a download
                # right after the other program's was often the slower of the two (the
                # client after curl: 440-610 MB/s; after itself: 550-740), so a fixed
                # order would charge that to one side.
                sides = ("curl", "client") if round_no % 2 == 0 else ("client", "curl")
                for side in sides:
                    if side == "curl":
                        dest = folder / "curl.mp4"
                        curl_s.append(fetch_curl(url, dest))
                    else:
                        dest = folder / "client.mp4"
                        elapsed, grown = fetch_client(url, dest)
                        if dest.stat().st_size != size:
                            raise RuntimeError("the client's file has the wrong size")
                        client_s.append(elapsed)
                        growth.append(grown)
                    dest.unlink()
        finally:
            server.terminate()
            server.wait(10)
    mb = size / 1e6
    curl_rate = mb / statistics.median(curl_s)
    client_rate = mb / statistics.median(client_s)
    ratio = client_rate / curl_rate
    print(f"rounds: {args.rounds}; file: {args.size_mib} MiB from 127.0.0.1, each with fsync")
    print(f"floor: curl, median            {curl_rate:8.0f} MB/s   "
          f"(runs: {', '.join(f'{mb / s:.0f}' for s in curl_s)})")
    print(f"app's client, median           {client_rate:8.0f} MB/s   "
          f"(runs: {', '.join(f'{mb / s:.0f}' for s in client_s)})")
    print(f"client / curl                  {ratio:8.2f}x      "
          f"(target >= {RATIO_TARGET}x: {'met' if ratio >= RATIO_TARGET else 'NOT met'})")
    worst = max(growth)
    print(f"client RSS growth, worst       {worst:8.1f} MB     "
          f"(target <= {RSS_TARGET_MB:.0f} MB: {'met' if worst <= RSS_TARGET_MB else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
