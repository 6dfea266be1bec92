"""The global-hotkey implementation for the platform Qt runs on, chosen once at start.

Apart from :mod:`.hotkeys` (the router, the key combos and the :class:`~.hotkeys.GlobalHotkeys`
protocol every implementation imports), so that the implementations and the choice among them do not
import each other.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop_app.log import get_logger
from desktop_app.platform.hotkeys import GlobalHotkeys, HotkeyRouter, NoHotkeys

log = get_logger("platform")


def make_hotkeys(platform_name: str, router: HotkeyRouter, changed: Callable[[], None] = lambda: None
                 ) -> GlobalHotkeys:
    """The implementation for Qt's platform ``platform_name`` (``QGuiApplication.platformName()``);
    ``changed()`` is called when its :meth:`~GlobalHotkeys.status` changes later (the portal answers)."""
    try:
        if platform_name == "xcb":
            from desktop_app.platform.x11_hotkeys import X11Hotkeys

            return X11Hotkeys(router)
        if platform_name == "windows":
            from desktop_app.platform.win_hotkeys import WindowsHotkeys

            return WindowsHotkeys(router)
        if platform_name == "cocoa":
            from desktop_app.platform.mac_hotkeys import MacHotkeys

            return MacHotkeys(router)
        if platform_name.startswith("wayland"):
            from desktop_app.platform.wayland_portal import PortalHotkeys

            return PortalHotkeys(router, changed)
    except OSError as exc:  # a system library the module needs is missing
        log.warning("! global hotkeys unavailable on %s: %s", platform_name, exc)
        return NoHotkeys("Global hotkeys are unavailable here: a system library is missing (see the log).")
    return NoHotkeys("Global hotkeys need a desktop session (X11, Wayland with the portal, Windows or macOS).")
