"""PySide6 6.12.0 on Python 3.11: a call to a method that returns nothing (``setText``,
``accept``, ``QTimer.start`` …) or a null pointer (``parentWidget()`` of a window) hands
Python a None it took no reference to, so each call takes one reference from None.
None's count is only a few thousand in a fresh process; once it reaches zero Python
aborts ("Fatal Python error: none_dealloc"). ``Signal.disconnect`` does the same to True.
Python 3.12+ makes None, True and False immortal, so nothing happens there, nor with a
fixed binding.

Code that makes such calls on every key event (the keyboard filter) goes through
``call``/``void_call``, which give the reference back when the call took it; the check
is two ``sys.getrefcount`` calls around it, with no Python code running in between."""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtGui import QInputEvent

T = TypeVar("T")
_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


def give_back(taken: int, obj: object = None) -> None:
    """Return ``taken`` references to ``obj`` (None, True or False) that PySide took."""
    for _ in range(taken):
        _incref(obj)


def call(method: Callable[..., T], *args: object) -> T:
    """``method(*args)`` for a PySide method that may return None (nothing, or a null
    pointer) and runs no Python code (a signal it emits could legitimately drop
    references to None), giving back the reference the binding took."""
    before = sys.getrefcount(None)
    result = method(*args)
    # ``result`` now holds None: with a reference taken for it the count is one up.
    if result is None and sys.getrefcount(None) == before:
        give_back(1, None)
    return result


def void_call(method: Callable[..., object], *args: object) -> None:
    call(method, *args)


def set_timestamp(event: QInputEvent, stamp: int) -> None:
    call(event.setTimestamp, stamp)
