"""Parley: a desktop voice client for the OpenAI Realtime API (GA dialect)."""

__version__ = "0.1.0"
