"""Qt widgets only: they read one ViewState snapshot and emit intents."""
