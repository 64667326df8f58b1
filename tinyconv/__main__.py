"""``python -m tinyconv``: the same as the ``tinyconv`` command."""

from tinyconv.cli import main

raise SystemExit(main())
