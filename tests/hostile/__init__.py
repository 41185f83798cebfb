"""Hostile input: fuzzing, attacks on authentication, injection, oversized requests (issue 6)."""
