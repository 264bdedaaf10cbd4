"""Where a converted input is written: a free name next to the job's kept inputs."""

from __future__ import annotations

import os
from pathlib import Path

from kling_desktop.files import safe_filename

__all__ = ["free_name", "partial_name"]


def free_name(output_dir: Path, stem: str, suffix: str) -> Path:
    """``output_dir/<stem><suffix>``, or ``<stem> (2)<suffix>``… when that exists."""
    base = safe_filename(stem, max_bytes=120) or "converted"
    candidate = output_dir / f"{base}{suffix}"
    counter = 2
    while candidate.exists():
        candidate = output_dir / f"{base} ({counter}){suffix}"
        counter += 1
    return candidate


def partial_name(final: Path) -> Path:
    """The temporary name a result is written under until it is complete (hidden, and
    with the same extension, which the encoder reads the container from)."""
    return final.with_name(f".{final.stem}.{os.getpid()}.part{final.suffix}")
