"""Work-arounds for defects of the Qt binding that Parley cannot fix from the outside.

PySide6/shiboken 6.12.0 on CPython 3.11: a wrapped C++ method that returns ``void`` hands back
``None`` without taking a reference to it, and ``Signal.emit()`` does the same with ``True`` (fine
since CPython 3.12 made these singletons immortal, wrong before). Every such call lowers the
singleton's reference count by one, and a live window makes hundreds of them a second (``setText``,
``update``, every ``QPainter`` call, every signal emitted from Python), so within a minute the
interpreter aborts with "Fatal Python error: none_dealloc: deallocating None" (or ``bool_dealloc``).

:func:`guard_none_refcount` measures the defect with a few harmless calls and, only where it is
present, gives ``None``, ``True`` and ``False`` the practically infinite reference count CPython
3.12 gives them anyway. They are never deallocated in a working interpreter, so nothing else changes.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject

from desktop_app.log import get_logger

log = get_logger("ui")

_PROBE_CALLS = 64
_IMMORTAL = 1 << 40


def void_call_leak() -> int:
    """How many references to ``None`` one wrapped ``void`` call loses (0 on a sound binding)."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    return round((before - sys.getrefcount(None)) / _PROBE_CALLS)


def guard_none_refcount() -> bool:
    """Make ``None``/``True``/``False`` effectively immortal when the binding leaks their references;
    True when the defect is present (whether fixed now or by an earlier call)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    leak = void_call_leak()
    if leak <= 0:
        return False
    fixed_now = False
    for singleton in (None, True, False):
        if sys.getrefcount(singleton) < _IMMORTAL // 2:
            # ob_refcnt is the first field of every PyObject in CPython < 3.12
            ctypes.c_ssize_t.from_address(id(singleton)).value += _IMMORTAL
            fixed_now = True
    if fixed_now:
        log.warning("! the Qt binding drops a reference to None/True on every void call and emit (PySide6 %s "
                    "on Python %d.%d); None, True and False were made immortal to keep the app alive",
                    _binding_version(), *sys.version_info[:2])
    return True


def _binding_version() -> str:
    import PySide6

    return PySide6.__version__
