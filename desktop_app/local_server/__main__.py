"""``python -m desktop_app.local_server [options]`` — the same as ``parley serve [options]``."""

import sys

from desktop_app.local_server.cli import main

if __name__ == "__main__":
    sys.exit(main())
