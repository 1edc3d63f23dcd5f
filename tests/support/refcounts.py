"""PySide6 6.12.0 under Python 3.11 takes a reference from None (or True) on many calls
(see ui/none_refs.py). A GUI test making thousands of them — every key event, qWait,
setFocus — would bring the count to zero, and Python aborts, at the latest when it
exits. ``given_back`` returns what a test's calls took; giving back too many is harmless
(None, True and False are never freed), too few is what aborts."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ui.none_refs import give_back

_SINGLETONS = (None, True, False)


@contextmanager
def given_back() -> Iterator[None]:
    gc.collect()
    before = [sys.getrefcount(obj) for obj in _SINGLETONS]
    try:
        yield
    finally:
        gc.collect()
        for obj, count in zip(_SINGLETONS, before, strict=True):
            give_back(max(0, count - sys.getrefcount(obj)), obj)
