"""The offline voice pack: speech engines and their models (recognition and synthesis) for the
offline demo, downloaded on demand instead of shipped in the bundle.

* :mod:`.manifest` — what a pack is: a JSON manifest naming its archive(s), sizes and SHA-256s,
  the Python and platform it is built for, and the engines it brings.
* :mod:`.download` — fetching it: progress, resume after an interruption (HTTP ranges), cancel,
  checksum verification, then an atomic install into the data folder.
* :mod:`.store` — where it lives (``<data>/voicepack``) and :func:`~.store.activate`, which makes
  the installed engines importable: called at start-up by the GUI, ``--headless`` and ``serve``,
  the same from a source checkout and from the bundle.

Standard library only (urllib, zipfile, hashlib): nothing here needs Qt.
"""
