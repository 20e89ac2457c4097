"""Short forms of place names for labels. Pure."""

from __future__ import annotations


def short_village(name: str) -> str:
    """'杜辛庄村委会' -> '杜辛庄村', '平粮社区居委会' -> '平粮社区'."""
    name = str(name).strip()
    if name.endswith("村委会"):
        return name[:-2]
    if name.endswith("居委会"):
        return name[:-3]
    return name
