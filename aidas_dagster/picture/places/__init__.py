"""Drawers of the backdrop kinds, one module per family of places (see story/place_kinds.py).

Each module exports DRAWERS (kind → function drawing on a backdrop_draw.Scene) and UNGRADED: its
kinds the room tint of the time of day must not touch, because they are outdoors (graded through
Scene.lit as they are drawn) or lit by their own rig (a stage, a studio).
"""

from __future__ import annotations

from collections.abc import Callable

from aidas_dagster.picture.backdrop_draw import Scene
from aidas_dagster.picture.places import creative, everyday, heritage, institutions, nature, show, trade, travel

_MODULES = (everyday, institutions, trade, show, heritage, creative, travel, nature)

DRAWERS: dict[str, Callable[[Scene], None]] = {}
UNGRADED: set[str] = set()
for _module in _MODULES:
    DRAWERS.update(_module.DRAWERS)
    UNGRADED.update(_module.UNGRADED)
