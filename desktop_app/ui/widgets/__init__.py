"""The main window's widgets: each reads a piece of the ViewState and emits intents as signals."""
