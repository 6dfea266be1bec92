"""What the desktop offers beyond Qt, one small module per platform: global hotkeys (X11, Windows,
macOS, the Wayland portal) and the single running instance.

Each capability is declared in a Protocol (:class:`~desktop_app.platform.hotkeys.GlobalHotkeys`)
with one implementation per platform, chosen once by
:func:`~desktop_app.platform.hotkey_backends.make_hotkeys` from the Qt platform name; callers never ask an object what it can do. The platform code is kept
to the system calls; what decides (key names, auto-repeat, hold versus toggle) is plain Python
that the tests run on every machine.
"""
