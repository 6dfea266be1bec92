"""Fixtures for real audio devices: a private PipeWire session with a null sink.

Filled in by the audio-engine work; kept as a registered plugin so every test package can use it.
"""
