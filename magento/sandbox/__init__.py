"""A stand-in Magento 2.4 store for demos, end-to-end tests and benchmarks.

Plain Python (standard library HTTP server): `SandboxStore` holds the data, `SandboxServer`
serves it over HTTP on 127.0.0.1 with Magento's routes, errors, authentication and paging.
"""

from .activity import ActivitySimulator
from .auth import ALL_RESOURCES, Credentials, acl_selection
from .clock import FakeClock
from .faults import KINDS as FAULT_KINDS
from .faults import Fault, FaultPlan
from .server import SandboxServer
from .store import DEFAULT_GRANTS, SandboxStore

__all__ = [
    "ALL_RESOURCES",
    "DEFAULT_GRANTS",
    "FAULT_KINDS",
    "ActivitySimulator",
    "Credentials",
    "FakeClock",
    "Fault",
    "FaultPlan",
    "SandboxServer",
    "SandboxStore",
    "acl_selection",
]
