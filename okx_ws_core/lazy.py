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
    at once both get the finished module.  Given ``holder`` (a module's
    ``globals()``) and the name it is bound to there, the stand-in then puts the
    real module in its place: that module's functions see the module itself from
    then on, at no cost per read and with its names as they are now.  Without a
    holder, each attribute read is kept (for names not rebound later).
    """

    def __init__(self, name: str, holder: dict[str, Any] | None = None, bound_as: str = "") -> None:
        super().__init__(name)
        self.__lazy_holder = (holder, bound_as)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_LazyModule__"):  # during __init__ and copy/pickle probes
            raise AttributeError(attr)
        module = importlib.import_module(self.__name__)
        holder, bound_as = self.__lazy_holder
        if holder is None:
            value = getattr(module, attr)
            setattr(self, attr, value)
            return value
        if holder.get(bound_as) is self:
            holder[bound_as] = module
        return getattr(module, attr)


# pydantic for the runtime's few run-time uses of it (``except ValidationError``,
# ``isinstance(x, BaseModel)``): all on paths where a model already exists, so
# pydantic is imported by then; type hints import it under TYPE_CHECKING.
pydantic = LazyModule("pydantic")
