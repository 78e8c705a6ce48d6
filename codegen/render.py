"""Render the package files from the Jinja2 templates in ``codegen/templates``."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

import okx_ws_core

from .client_options import annotation_imports, client_options
from .models_gen import HEADER, RequirementClass, RulesClass
from .spec_loader import Spec
from .spec_rules import ENVELOPE
from .typed_dicts import typed_dicts

TEMPLATES = Path(__file__).with_name("templates")

# The runtime's public names, re-exported by the generated package: read from the
# runtime itself, so a name added there reaches ``okx_ws`` with ``make generate``.
RUNTIME_NAMES: tuple[str, ...] = tuple(sorted(n for n in okx_ws_core.__all__ if n != "__version__"))


def _python_literal(value: object) -> str:
    """A Python literal for ``value``; strings are double-quoted like ruff format wants."""
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, tuple):
        inner = ", ".join(_python_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _wrap(text: str, width: int, indent: int) -> str:
    """Wrap a docstring paragraph; continuation lines get ``indent`` spaces."""
    lines = textwrap.wrap(text, width=width)
    return ("\n" + " " * indent).join(lines)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = _python_literal
    env.filters["wrap"] = _wrap
    return env


def model_names(spec: Spec) -> list[str]:
    """Every model class in ``models.py`` (object definitions plus response envelopes)."""
    names = {ENVELOPE}
    names.update(n for n, s in spec.definitions.items() if s.get("type") == "object")
    names.update(op.response_class for op in spec.operations)
    return sorted(names)


def render_package(
    spec: Spec, requirements: list[RequirementClass], rules: Sequence[RulesClass] = ()
) -> dict[str, str]:
    """File name -> source for everything in the package except ``models.py``."""
    env = _environment()
    options = client_options()
    context = {
        "header": HEADER,
        "operations": spec.operations,
        "limits": spec.limits,
        "channels": spec.channels,
        "order_ops": spec.order_ops,
        "options": options,
        "annotation_imports": annotation_imports(options),
        "requirements": requirements,
        "rules": rules,
        "typed_dicts": typed_dicts(spec),
    }
    files = {
        "_model_base.py": env.get_template("_model_base.py.j2").render(context),
        "operations.py": env.get_template("operations.py.j2").render(context),
        "channels.py": env.get_template("channels.py.j2").render(context),
        "dicts.py": env.get_template("dicts.py.j2").render(context),
    }
    files["_async_client.py"] = env.get_template("client.py.j2").render(
        context,
        aio=True,
        aio_def="async def",
        aio_await="await ",
        cls="AsyncWebsocketAPIClient",
        ws_cls="AsyncWebsocketClient",
    )
    # The blocking client derives every method from the async one (okx_ws_core.client.facade).
    files["_sync_client.py"] = env.get_template("sync_client.py.j2").render(context)
    models = model_names(spec)
    exported = [
        *RUNTIME_NAMES,
        "AsyncWebsocketAPIClient",
        "WebsocketAPIClient",
        *models,
        *(td.name for td in context["typed_dicts"]),
        "BY_OP",
        "OPERATIONS",
        "CHANNELS",
        "ORDER_CHANNELS",
        "ORDER_OPS",
    ]
    files["__init__.py"] = env.get_template("__init__.py.j2").render(
        context,
        runtime_names=RUNTIME_NAMES,
        model_names=models,
        dict_names=[td.name for td in context["typed_dicts"]],
        all_names=sorted(set(exported)),
    )
    files["py.typed"] = ""
    return files
