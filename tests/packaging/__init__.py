"""Tests of the bundle, its metadata and the platform directories."""


def local_server_available() -> bool:
    """Whether the embedded local server (``desktop_app.local_server.LocalServer``) can be imported."""
    try:
        from desktop_app.local_server import LocalServer  # noqa: F401
    except ImportError:
        return False
    return True
