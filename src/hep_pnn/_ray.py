"""Connecting to Ray: an existing cluster at an address, or a local instance; no telemetry."""

from __future__ import annotations

import os
import socket
from types import ModuleType

from hep_pnn._extras import require
from hep_pnn.errors import ConfigError

__all__ = ["connect"]


def _check_reachable(address: str) -> None:
    """Fail fast when nothing listens at ``host:port`` (Ray itself retries for minutes)."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(
            f"cannot read the Ray address {address!r}",
            where="--address",
            fix="give HOST:PORT of the head node (e.g. 10.0.0.1:6379), ray://HOST:PORT or auto",
        )
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise ConfigError(
            f"cannot connect to the Ray cluster at {address!r}: {err.strerror or err}",
            where="--address",
            fix="start the cluster (ray start --head) and give its address, or omit --address",
        ) from None


def connect(address: str | None, *, feature: str) -> ModuleType:
    """The ``ray`` module, connected to the cluster at ``address`` (``None``: the running
    instance of this process, else a new local one). Ray never reports usage statistics.

    Raises:
        ConfigError: Ray is not installed, or nothing answers at ``address``.
    """
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # before import: Ray must not phone home
    ray = require("ray", feature=feature)
    if ray.is_initialized():
        return ray
    if address not in (None, "auto", "local"):
        _check_reachable(address)
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(
            f"cannot connect to the Ray cluster at {address!r}: {first}",
            where="--address",
            fix="start the cluster (ray start --head) and give its address, or omit --address",
        ) from None
    return ray
