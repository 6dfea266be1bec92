"""A tiny X client for tests (ctypes over libxcb, its own connection): play a system tray (own the
``_NET_SYSTEM_TRAY_S0`` selection, which is how Qt decides a tray exists) and ask a window to close
the way a window manager does (``WM_DELETE_WINDOW``). Run as a program: ``tray`` holds the selection
until killed; ``close WINDOW_ID`` sends the request."""

from __future__ import annotations

import ctypes
import sys
import time

xcb = ctypes.CDLL("libxcb.so.1")
vp, u8, u16, u32 = ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32


class Cookie(ctypes.Structure):
    _fields_ = [("sequence", ctypes.c_uint)]


class ScreenIterator(ctypes.Structure):
    _fields_ = [("data", vp), ("rem", ctypes.c_int), ("index", ctypes.c_int)]


class InternReply(ctypes.Structure):
    _fields_ = [("response_type", u8), ("pad0", u8), ("sequence", u16), ("length", u32), ("atom", u32)]


class ClientMessage(ctypes.Structure):
    _fields_ = [("response_type", u8), ("format", u8), ("sequence", u16), ("window", u32), ("type", u32),
                ("data", u32 * 5)]


xcb.xcb_connect.restype, xcb.xcb_connect.argtypes = vp, [ctypes.c_char_p, vp]
xcb.xcb_get_setup.restype, xcb.xcb_get_setup.argtypes = vp, [vp]
xcb.xcb_setup_roots_iterator.restype, xcb.xcb_setup_roots_iterator.argtypes = ScreenIterator, [vp]
xcb.xcb_generate_id.restype, xcb.xcb_generate_id.argtypes = u32, [vp]
xcb.xcb_create_window.restype = Cookie
xcb.xcb_create_window.argtypes = [vp, u8, u32, u32, ctypes.c_int16, ctypes.c_int16, u16, u16, u16, u16, u32, u32, vp]
xcb.xcb_intern_atom.restype, xcb.xcb_intern_atom.argtypes = Cookie, [vp, u8, u16, ctypes.c_char_p]
xcb.xcb_intern_atom_reply.restype = ctypes.POINTER(InternReply)
xcb.xcb_intern_atom_reply.argtypes = [vp, Cookie, vp]
xcb.xcb_set_selection_owner.restype, xcb.xcb_set_selection_owner.argtypes = Cookie, [vp, u32, u32, u32]
xcb.xcb_send_event.restype, xcb.xcb_send_event.argtypes = Cookie, [vp, u8, u32, u32, ctypes.c_char_p]
xcb.xcb_flush.argtypes = [vp]


def connect() -> tuple[int, int]:
    conn = xcb.xcb_connect(None, None)
    root = ctypes.cast(xcb.xcb_setup_roots_iterator(xcb.xcb_get_setup(conn)).data, ctypes.POINTER(u32))[0]
    return conn, root


def atom(conn: int, name: str) -> int:
    reply = xcb.xcb_intern_atom_reply(conn, xcb.xcb_intern_atom(conn, 0, len(name), name.encode()), None)
    return int(reply.contents.atom)


def play_tray() -> None:
    conn, root = connect()
    window = xcb.xcb_generate_id(conn)
    xcb.xcb_create_window(conn, 0, window, root, 0, 0, 1, 1, 0, 1, 0, 0, None)  # an InputOutput 1x1 window
    xcb.xcb_set_selection_owner(conn, window, atom(conn, "_NET_SYSTEM_TRAY_S0"), 0)
    xcb.xcb_flush(conn)
    print("tray", flush=True)
    while True:
        time.sleep(3600)


def close(window: int) -> None:
    conn, _root = connect()
    message = ClientMessage(33, 32, 0, window, atom(conn, "WM_PROTOCOLS"))  # 33: ClientMessage
    message.data[0] = atom(conn, "WM_DELETE_WINDOW")
    xcb.xcb_send_event(conn, 0, window, 0, ctypes.string_at(ctypes.addressof(message), 32))
    xcb.xcb_flush(conn)


if __name__ == "__main__":
    if sys.argv[1] == "tray":
        play_tray()
    else:
        close(int(sys.argv[2]))
