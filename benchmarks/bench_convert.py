"""Conversion speed and memory: trim and convert times next to the clip's own duration.

The real-time floor is the length of what is written (a 10 s trim of a 30 s clip plays
for 10 s, the whole clip for 30 s): a conversion at or under 1× that is as fast as
playing it. Each case runs in a fresh ``python`` process so its peak memory (RSS,
``ru_maxrss`` of that child) is its own. Media are made by ffmpeg (needed here only).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_convert.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from kling_desktop.api.models import Orientation
from kling_desktop.convert import convert
from kling_desktop.engine.fixes import parse_trim, plan_video

source, trim, keep, out = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "yes", Path(sys.argv[4])
plan = plan_video(source, orientation=Orientation.VIDEO, keep_audio=keep,
                  trim=parse_trim(trim) if trim else None)
began = time.monotonic()
result = convert(plan, output_dir=out)
took = time.monotonic() - began
print(json.dumps({"seconds": took, "duration": result.duration, "mb": result.size_bytes / 2**20,
                  "format": result.format_label,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make(path: Path, seconds: float, size: str, fmt: str) -> None:
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    if fmt == "webm":
        argv += ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M",
                 "-c:a", "libopus"]
    else:
        argv += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    subprocess.run([*argv, "-t", str(seconds), str(path)], check=True, timeout=600)


def run(source: Path, trim: str, keep: str, out: Path) -> dict[str, float | str]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(source), trim, keep, str(out)],
                          capture_output=True, text=True, check=True, timeout=600, cwd=ROOT)
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("{"))
    result: dict[str, float | str] = json.loads(line)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="the long clip's length")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        print("ffmpeg is needed to make the benchmark's clips", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        folder = Path(tmp)
        long_clip = folder / "long-1080p.mp4"
        webm = folder / "browser-720p.webm"
        make(long_clip, args.seconds, "1920x1080", "mp4")
        make(webm, 10.0, "1280x720", "webm")
        cases = [
            (f"1080p {args.seconds:g} s: trim 10-20 s, sound kept", long_clip, "10-20", "yes"),
            (f"1080p {args.seconds:g} s: trim 10-20 s, no sound", long_clip, "10-20", "no"),
            ("720p WebM 10 s → MP4, sound kept", webm, "", "yes"),
        ]
        print(f"{'case':44} {'output':>8} {'took':>8} {'× real time':>12} {'peak RSS':>9}  format")
        for label, source, trim, keep in cases:
            result = run(source, trim, keep, folder / "out")
            seconds, duration = float(result["seconds"]), float(result["duration"])
            print(f"{label:44} {duration:7.1f}s {seconds:7.1f}s {seconds / duration:11.2f}× "
                  f"{float(result['rss_mb']):7.0f}MB  {result['format']}, "
                  f"{float(result['mb']):.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
