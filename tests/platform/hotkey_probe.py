"""A tiny program for the X11 hotkey tests: binds the keys given on the command line with Parley's
X11 hotkeys and prints ``press talk`` / ``release talk`` / ``conflict talk: …`` lines; or, with
``--other``, is the *other* application: a focused window that prints the keys it receives."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget


MODIFIER_KEYS = {Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Shift, Qt.Key.Key_Meta, Qt.Key.Key_NumLock}


class Other(QWidget):
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() not in MODIFIER_KEYS:  # modifiers are not grabbed: the focused window sees them
            print(f"other got {event.text() or event.key()}", flush=True)


def main() -> int:
    app = QApplication(sys.argv[:1])
    if sys.argv[1] == "--other":
        window = Other()
        window.setWindowTitle("other-app")
        window.resize(200, 100)
        window.show()
        window.setFocus(Qt.FocusReason.OtherFocusReason)
        print("ready", flush=True)
        return app.exec()
    from desktop_app.platform.hotkey_backends import make_hotkeys
    from desktop_app.platform.hotkeys import HotkeyRouter

    router = HotkeyRouter(lambda a: print(f"press {a}", flush=True), lambda a: print(f"release {a}", flush=True))
    hotkeys = make_hotkeys(QApplication.platformName(), router)
    print(f"backend {hotkeys.backend}", flush=True)
    bindings = dict(arg.split("=", 1) for arg in sys.argv[1:])
    for action, sentence in hotkeys.bind(bindings).items():
        print(f"conflict {action}: {sentence}", flush=True)
    print("ready", flush=True)
    QTimer.singleShot(60_000, app.quit)
    code = app.exec()
    hotkeys.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
