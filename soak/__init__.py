"""Chaos soak: thousands of orders under random faults, every request accounted for once.

    python -m soak --requests 10000 --faults 300 --seed 1 [--clients async,sync]
                   [--transport auto|websockets|httpx-ws|async=...,sync=...]
                   [--rate-limit wait|raise|off] [--at-limits] [--api generated|core]

See ``soak.runner`` for how a run goes and ``soak.checks`` for what must hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import SoakConfig
    from .report import SoakReport, summary
    from .runner import run_soak

__all__ = ["SoakConfig", "SoakReport", "run_soak", "summary"]
_WHERE = {"SoakConfig": "config", "SoakReport": "report", "summary": "report", "run_soak": "runner"}


def __getattr__(name: str) -> Any:
    # Lazy: the simulator process (python -m soak.simchild) imports this package
    # too, and must not load the client stack.
    if name not in _WHERE:
        raise AttributeError(name)
    from importlib import import_module

    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
