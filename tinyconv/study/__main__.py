"""``python -m tinyconv.study``: print a results table and update the README (see ``report``)."""

from tinyconv.study.report import main

raise SystemExit(main())
