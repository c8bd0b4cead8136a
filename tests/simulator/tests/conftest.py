"""Fixtures for the simulator's own tests: ``windows_sim`` (from ``tests.simulator.pytest_plugin``)
and ``winrs`` (pywinrm clients closed at teardown)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.simulator.pytest_plugin import windows_sim
from tests.simulator.tests.support import WinRSClient

__all__ = ["windows_sim", "winrs"]


@pytest.fixture
def winrs() -> Iterator[Any]:
    """``winrs(endpoint, **Protocol kwargs) -> WinRSClient``; shells are closed at teardown."""
    clients: list[WinRSClient] = []

    def factory(endpoint: dict[str, Any], **kwargs: Any) -> WinRSClient:
        client = WinRSClient(endpoint, **kwargs)
        clients.append(client)
        return client

    yield factory
    for c in clients:
        # a test may have rebooted the host under the shell
        with contextlib.suppress(Exception):
            c.close()
