"""``python -m streams.cli``: the ``newswatch`` command."""

from streams.cli import main

main()
