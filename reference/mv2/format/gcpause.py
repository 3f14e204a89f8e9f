"""Pausing Python's cyclic garbage collector while large plain values are built.

Decoding a TOC of 10 000 frames allocates a few hundred thousand dicts, lists and strings.
None of them can form a reference cycle, yet each allocation burst triggers collections whose
cost grows with everything already alive, so decoding time grew faster than the frame count
(open at 14 000 frames: 0.29 s with the collector, 0.14 s without). The collector is paused
for the duration and restored to its previous state afterwards.
"""

from __future__ import annotations

import contextlib
import gc


FREEZE = False
"""When True, what was built during a pause is moved to the collector's permanent generation
(``gc.freeze``) before the collector resumes. The first collection after a pause otherwise
scans every object the decode built (70 ms after opening 50 000 frames). Freezing affects
every object of the process, so only a program that owns the process sets it: the ``mv2``
command does; the library, imported into someone else's program, does not."""


@contextlib.contextmanager
def paused_gc():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if FREEZE:
            gc.freeze()
        if was_enabled:
            gc.enable()


def untracked(objects: list) -> list:
    """``objects``, each untracked by the collector when the compiled codec is at hand (a
    no-op otherwise). Only for objects that can never be part of a reference cycle: a
    collection then never walks them. Returns the list.

    A million small objects that stay tracked make every full collection walk them; while a
    million are being made, the collector runs a full collection each time the tracked
    objects grow by a quarter (making a million frame states took 6.4 s with the collector,
    1.9 s without). CPython never tracks such an object again by itself."""
    from .fastcodec import _ACCEL

    if _ACCEL is not None and hasattr(_ACCEL, "untrack"):
        _ACCEL.untrack(objects)
    return objects
