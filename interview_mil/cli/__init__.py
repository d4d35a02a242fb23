"""Thin command-line layer: each module here defines one subcommand over library functions."""
