"""A local replica of the Guangdong government sites (gd, gdii, gz, gxj) for the demo and the tests."""

from .catalog import build_catalog
from .server import ReplicaServer

__all__ = ["ReplicaServer", "build_catalog"]
