"""Which one-click fixes the form offers for a refused input: the offer and its action.

An offer (:class:`FixOffer`) is a button under a refusal, with the outcome shown before
anything runs; its ``action`` is what the slot's button sends to the form:
``fix:<kind>:<source>``. What each fix will make is worked out by
:mod:`.offer_plans`, on the TaskRunner after each check (:func:`find_offers`): it reads
file headers and asks :mod:`kling_desktop.engine.fixes`, neither of which the form
needs to be painted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kling_desktop.api.models import GenerationOptions

__all__ = [
    "ACTION_PREFIX",
    "FixOffer",
    "find_offers",
    "parse_action",
]

ACTION_PREFIX = "fix:"

# The kinds of fix a button asks for.
TRIM, CONVERT, PAD, CROP = "trim", "convert", "pad", "crop"


@dataclass(frozen=True)
class FixOffer:
    """One button under the refusal ``message`` of ``source``."""

    message: str          # the Problem's message it belongs to
    kind: str             # TRIM, CONVERT, PAD or CROP
    source: str
    label: str            # the button's words
    outcome: str          # what will come out, said before anything runs

    @property
    def action(self) -> str:
        return f"{ACTION_PREFIX}{self.kind}:{self.source}"


def parse_action(action: str) -> tuple[str, str] | None:
    """``"fix:trim:/a/b.mp4"`` -> ``("trim", "/a/b.mp4")``; None for other actions."""
    if not action.startswith(ACTION_PREFIX):
        return None
    kind, sep, source = action[len(ACTION_PREFIX):].partition(":")
    return (kind, source) if sep and kind in (TRIM, CONVERT, PAD, CROP) and source else None


def find_offers(images: Sequence[str], videos: Sequence[str],
                options: GenerationOptions) -> tuple[FixOffer, ...]:
    """(On the TaskRunner.) The fixes for every refused local input: see
    :func:`.offer_plans.offers_for`, loaded here, off the main thread, the first time."""
    from kling_desktop.ui.form.offer_plans import offers_for

    return offers_for(images, videos, options)
