"""Dialogs: the API key (paste, test, replace, delete, session-only when no keyring is usable)."""
