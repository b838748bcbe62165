"""CivicGrid — 网格化社会治理平台."""

__version__ = "0.1.0"
