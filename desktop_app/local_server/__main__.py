"""``python -m desktop_app.local_server [options]`` — the same as ``parley serve [options]``."""

import sys

from desktop_app.local_server.cli import main

sys.exit(main())
