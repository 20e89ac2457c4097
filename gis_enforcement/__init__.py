"""gis_enforcement — the information platform behind the 吹哨报到 (whistle-and-report) enforcement chain."""

__version__ = "0.1.0"
