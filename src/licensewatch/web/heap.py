"""The garbage collector of a serving process: start-up objects frozen, young collections rarer.

A worker holds ≈ 180k long-lived container objects after start-up (SQLAlchemy's mappers and
compiled caches, pydantic's and FastAPI's models, the compiled templates). CPython's full
collection walks all of them: on 2 busy cores that was 0.3–1.6 s per collection, a few times a
minute under W5's load, stalling every request in flight (the p95/p99 outliers of the mixed
load that in-process medians did not show), and the default young threshold (700 allocations)
ran a collection almost twice per request. `gc.freeze()` moves what start-up built to the
permanent generation (never scanned again; it lives as long as the process anyway) and a larger
first threshold lets most of a request's objects die by reference counting before any scan.
"""

from __future__ import annotations

import gc

# Young-generation threshold: a page allocates tens of thousands of containers (rows, models,
# template frames), nearly all freed by reference counting when the request ends.
YOUNG_THRESHOLD = 10_000


def settle_heap() -> None:
    """After start-up: collect once, freeze the survivors, make young collections rarer."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
