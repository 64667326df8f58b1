"""The namespaces whose ``__all__`` the API reference must cover (read by conf.py and the tests)."""

PUBLIC_NAMESPACES = (
    "tinyconv",
    "tinyconv.data",
    "tinyconv.train",
    "tinyconv.study",
    "tinyconv.recipes",
    "tinyconv.plots",
    "tinyconv.export",
    "tinyconv.mcu",
    "tinyconv.search",
    "tinyconv.compress",
)
