"""``python -m tinyconv.study PATH``: the same as ``tinyconv results PATH`` (a results table)."""

import sys

from tinyconv.cli import main

raise SystemExit(main(["results", *sys.argv[1:]]))
