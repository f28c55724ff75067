from collections.abc import Iterator

import pytest

from routes.selectors import zones_cache_clear


@pytest.fixture(autouse=True)
def fresh_zone_cache() -> Iterator[None]:
    # The cache is per process; each test starts from an empty one.
    zones_cache_clear()
    yield
    zones_cache_clear()
