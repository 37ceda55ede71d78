"""Heavy client libraries imported on first use (the standard library's LazyLoader recipe).

Every process that loads the code location pays for what its modules import at the top: the webserver,
the daemon, each run worker and step server. The OpenAI and ElevenLabs SDKs and pandas cost ~2 s of
CPU together there, yet only a paid call or the production report uses them."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    """The module `name`, executed only when one of its attributes is first read (at once if it
    is already imported). A missing package still fails here, at import time, naming it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
