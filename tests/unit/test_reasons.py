"""A failed connection reads the same from either HTTP client or the database driver: the
system's own words."""

from __future__ import annotations

import socket

import httpx

from bot.text.reasons import os_reason


def test_the_reason_is_found_down_the_chain_of_causes() -> None:
    refused = httpx.ConnectError("All connection attempts failed")
    refused.__cause__ = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")
    assert os_reason(refused) == "Connection refused"
    unresolved = httpx.ConnectError("All connection attempts failed")
    unresolved.__context__ = socket.gaierror(-2, "Name or service not known")
    assert os_reason(unresolved) == "Name or service not known"
    assert os_reason(httpx.ConnectError("no cause")) == "ConnectError: no cause"


def test_the_database_drivers_wording_gives_way_to_the_systems() -> None:
    assert os_reason(ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5439)")) == (
        "Connection refused"
    )
