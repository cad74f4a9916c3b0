"""Fixtures of the API tests: one store per module and backend, and a real
uvicorn serving it on loopback (tests/api_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from store.db import Store

from ..api_server import ApiServer
from ..conftest import BACKENDS, make_database_url


@pytest.fixture(scope="module", params=BACKENDS)
def api_store(request, tmp_path_factory) -> Iterator[Store]:
    urls = make_database_url(request.param, tmp_path_factory.mktemp("api"))
    st = Store(next(urls))
    st.prepare()
    yield st
    st.dispose()
    next(urls, None)


@pytest.fixture(scope="module")
def server(api_store) -> Iterator[ApiServer]:
    with ApiServer(api_store) as srv:
        yield srv
