"""``python -m mv2_conformance``: the same command line as ``mv2-conformance``."""

from .cli import main

raise SystemExit(main())
