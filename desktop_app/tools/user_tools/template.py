"""The tools file Parley creates for "Edit…": the format explained by two commented examples."""

TEMPLATE = '''\
# Parley user tools. Each [[tool]] entry is one tool the assistant may call.
# Remove the leading "# " of an example to use it, then press "Reload" in the Tools tab.
# A broken entry is disabled alone; the Tools tab says which line and field is wrong.
#
# Common fields:
#   name         letters, digits, _ or -        (required)
#   type         "http" or "command"            (required)
#   description  when the assistant should use it (required)
#   permission   "allow", "ask" or "deny"        (default: ask if it changes anything, else allow)
#   side_effects true/false                      (default: true, except HTTP GET)
#   timeout      seconds, up to 120              (default 10)
#   max_output   characters sent back            (default 16000)
#   rate_limit   calls per minute                (default 30)
#   [tool.params.NAME]  type = string|integer|number|boolean, description, required (default true),
#                       enum, max_length (default 1000), pattern, minimum, maximum
#
# HTTP: url with {param} placeholders (path and query only; values are percent-encoded),
#   method (GET, POST, PUT, PATCH, DELETE), allowed_hosts (default: the URL's host; checked again
#   after every redirect), [tool.headers] whose values may use {secret:NAME} (a secret kept in the
#   system keyring, set in the Tools tab) and {param}, body = "json" (POST/PUT/PATCH) or "none".
#
# [[tool]]
# name = "weather"
# type = "http"
# description = "Current weather for a city."
# url = "https://api.example.com/v1/weather?city={city}"
# allowed_hosts = ["api.example.com"]
# [tool.headers]
# Authorization = "Bearer {secret:weather-token}"
# [tool.params.city]
# type = "string"
# description = "City name, e.g. Lisbon"
# max_length = 80
#
# Command: argv is a list (never a shell line); {param} fills one element and is never split;
#   cwd (working folder), env (the only environment variables passed), path_params (params that
#   are paths) with allowed_folders (they must stay inside, symlinks included).
#
# [[tool]]
# name = "folder_size"
# type = "command"
# description = "How much disk space a folder in Documents uses."
# argv = ["du", "-sh", "--", "{folder}"]
# cwd = "~/Documents"
# env = ["PATH", "LANG"]
# path_params = ["folder"]
# allowed_folders = ["~/Documents"]
# side_effects = false
# [tool.params.folder]
# type = "string"
# description = "Folder inside Documents"
'''
