"""Shared parts of the side-by-side benchmarks (``bench/peers.py``, ``bench/capture_stages.py``,
``bench/window_profile.py``): the PipeWire room and its probes, the scripted GA server, the clients
(Parley's window, ``parley --headless``, the peers in a throwaway virtualenv), process CPU/RSS
sampling and the onset analysis. Nothing here is imported by the app or by the tests' fixtures.
"""
