"""Conversation history: every conversation kept in a SQLite database in the data directory.

* :mod:`.records` — what is saved and read back (entries with the heard/unheard split, summaries).
* :mod:`.schema` — opening the file: versioned migrations, a corrupt file moved aside with a notice.
* :mod:`.db` — the SQL, run only on the history's writer thread.
* :mod:`.service` — :class:`~.service.History` (the loop's async face: nothing blocks the UI loop)
  and :class:`~.service.ConversationRecorder` (what the controller feeds while a conversation runs).
* :mod:`.export` — Markdown and JSON exports, and the saved conversation as replay items.
* :mod:`.search` — :class:`~.search.HistorySearch`, full-text search (FTS5) for the tools.
"""
