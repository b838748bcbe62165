"""Counting requests per key in fixed windows, in the shared cache (Redis when configured)."""

from __future__ import annotations

import time

from django.core.cache import cache


def throttle_allows(key: str, *, limit: int, seconds: int) -> bool:
    """Count one more request for ``key`` in the current window; False once ``limit`` is passed."""
    if limit <= 0:
        return True  # 0 turns the limit off
    window = int(time.time() // seconds)
    name = f"throttle:{key}:{window}"
    cache.add(name, 0, timeout=seconds + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=seconds + 5)
        count = 1
    return count <= limit
