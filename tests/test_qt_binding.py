"""The installed Qt binding keeps Python's reference counts straight.

PySide6-Essentials 6.12.0 drops a reference to ``None`` on every void call and to ``True`` on every
``Signal.emit()``; a live window then aborts the interpreter ("deallocating True or False") within a
minute. The probe runs in a subprocess because a broken binding kills the process.
"""

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class O(QObject):
    s = Signal(int)
o = O()
none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(20000):
    o.setObjectName("x")
    o.s.emit(1)
print(sys.getrefcount(None) - none0, sys.getrefcount(True) - true0)
"""


def test_void_calls_and_signal_emits_do_not_leak_or_drop_references():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, f"the Qt binding corrupts reference counts: {out.stderr[-400:]}"
    none_delta, true_delta = map(int, out.stdout.split())
    assert abs(none_delta) < 100 and abs(true_delta) < 100, out.stdout
