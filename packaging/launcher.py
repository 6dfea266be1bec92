"""PyInstaller's entry script: the bundle's ``parley`` executable runs exactly ``parley`` (app.main)."""

import sys

from desktop_app.app import main

if __name__ == "__main__":
    sys.exit(main())
