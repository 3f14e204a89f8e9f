"""``python -m mv2``: the ``mv2`` command."""

from .cli.main import main

main()
