"""Start Qt with a qasync loop, show the main window, and shut down cleanly.

Clean shutdown is one path for every way out: closing the window, Ctrl+Q, and SIGINT/SIGTERM all
set the same asyncio event, after which the window's ``shutdown()`` coroutine runs before the loop
stops.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from desktop_app.log import get_logger

log = get_logger("ui")


def run(args: argparse.Namespace) -> int:
    """Run the GUI until the window is closed; returns the exit code."""
    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Parley")
    app.setOrganizationName("Parley")
    app.setDesktopFileName("parley")

    async def main() -> int:
        quitting = asyncio.Event()
        window = MainWindow(on_quit=quitting.set)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, quitting.set)
            except (NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(quitting.set))
        window.show()
        log.info("= window shown")
        if args.quit_after is not None:
            loop.call_later(args.quit_after, quitting.set)
        await quitting.wait()
        await window.shutdown()
        log.info("= shut down cleanly")
        return 0

    return qasync.run(main())
