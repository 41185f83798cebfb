"""Ports are bound before the servers start: a port in use is one clear error."""

from __future__ import annotations

import re
import socket

import pytest

from license_service.errors import ConfigurationError
from license_service.runtime.addresses import base_url, url_for
from license_service.runtime.listeners import bind_listener, bind_listeners


def test_a_port_in_use_names_the_flag_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(
            ConfigurationError, match=f"cannot listen on 127.0.0.1:{port}: .*--port"
        ):
            bind_listener("127.0.0.1", port, flag="--port")


def test_a_port_in_use_suggests_a_free_port_to_give_instead() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(ConfigurationError) as refused:
            bind_listener("127.0.0.1", port, flag="--port")

    suggested = re.search(r"e\.g\. --port (\d+)", str(refused.value))
    assert suggested is not None, str(refused.value)
    assert int(suggested.group(1)) != port
    bind_listener("127.0.0.1", int(suggested.group(1)), flag="--port").close()


def test_a_metrics_port_in_use_says_metrics_can_be_turned_off() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(ConfigurationError, match="--metrics-port 0 turns metrics off"):
            bind_listener("127.0.0.1", port, flag="--metrics-port")


def test_the_api_port_is_released_when_the_metrics_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        metrics_port = taken.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            api_port = probe.getsockname()[1]

        with pytest.raises(ConfigurationError, match="--metrics-port"):
            bind_listeners("127.0.0.1", port=api_port, metrics_port=metrics_port)

        # The API port was closed again: it can be bound at once.
        bind_listener("127.0.0.1", api_port, flag="--port").close()


def test_metrics_port_zero_binds_no_metrics_socket() -> None:
    listeners = bind_listeners("127.0.0.1", port=_free_port(), metrics_port=0)
    try:
        assert listeners.metrics is None
        assert listeners.api.getsockname()[1] > 0
    finally:
        listeners.close()


def test_an_unknown_host_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"--host 'no such host\.invalid' cannot be"):
        bind_listener("no such host.invalid", 8080, flag="--port")


def test_a_wildcard_address_is_shown_as_the_loopback_address() -> None:
    assert url_for("0.0.0.0", 8080, scheme="http") == "http://127.0.0.1:8080"
    assert url_for("::", 8443, scheme="https") == "https://[::1]:8443"
    assert url_for("10.0.0.7", 8080, scheme="http") == "http://10.0.0.7:8080"


def test_the_url_of_a_socket_has_its_port() -> None:
    sock = bind_listener("127.0.0.1", _free_port(), flag="--port")
    try:
        assert base_url(sock, scheme="http") == f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
