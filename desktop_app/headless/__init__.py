"""Headless mode: the conversation controller driven from files (a WAV in; audio, transcript and an
event log out). A stable interface that tests, benchmarks and reviewers depend on."""
