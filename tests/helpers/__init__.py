"""Helpers shared by test packages (synthesized speech for end-to-end tests)."""
