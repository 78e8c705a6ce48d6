"""``LazyModule``: a module imported on first attribute access, safely from any thread.

The generated package defines 86 pydantic models; building them is most of what
``import okx_ws`` would cost, and a program uses a handful.  So the generated
clients hold :mod:`okx_ws.operations` and :mod:`okx_ws.channels` (which build
the models) through this stand-in, and the runtime holds pydantic so: the
import happens when a client is first made or a model first validated, not
when the package is imported.  The stdlib's ``importlib.util.LazyLoader``
is not thread-safe before Python 3.12 (a second thread can see a half-run
module), and the blocking client's loop thread may touch a module first.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class LazyModule(types.ModuleType):
    """Stands in for module ``name``: the first read of an attribute imports the module.

    The import runs under the interpreter's import lock, so two threads reading
    at once both get the finished module.  Each attribute read is kept, so later
    reads are plain instance look-ups (the request path reads ``operations.X``
    per call): meant for names that are not rebound once the import finishes.
    """

    def __getattr__(self, attr: str) -> Any:
        value = getattr(importlib.import_module(self.__name__), attr)
        setattr(self, attr, value)
        return value


# pydantic for the runtime's few run-time uses of it (``except ValidationError``,
# ``isinstance(x, BaseModel)``): all on paths where a model already exists, so
# pydantic is imported by then; type hints import it under TYPE_CHECKING.
pydantic = LazyModule("pydantic")
