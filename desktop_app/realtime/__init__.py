"""Sans-I/O Realtime protocol core (GA dialect). Imports only the standard library."""
