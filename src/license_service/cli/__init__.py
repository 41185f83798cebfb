"""The ``license-service`` command line: commands, output rendering and exit codes."""
