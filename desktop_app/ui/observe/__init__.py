"""Widgets that show what happened: the event log, the connection monitor, usage and spending, and
the conversation history. Each is standalone — the window places it — and reads its model only on
its own timer while shown, so a closed panel costs nothing per event.
"""
