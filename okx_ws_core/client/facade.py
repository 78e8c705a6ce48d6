"""Blocking methods derived from async ones, so that each API is written once.

The blocking client (:class:`~.sync_client.WebsocketClient`), the generated
``WebsocketAPIClient`` and the simulator's ``SimulatorThread`` each front an
object that lives on an event-loop thread.  Their methods used to be copied
from the async ones by hand, and the copies drifted (a parameter type here, a
missing keyword there).  Now a facade declares, for example::

    class WebsocketClient(Facade[AsyncWebsocketClient]):
        connect = blocking(AsyncWebsocketClient.connect)
        on = on_loop(AsyncWebsocketClient.on)

- :func:`blocking`: a coroutine method, run on the loop thread while the caller waits;
  :func:`blocking_as` also converts its result (an async stream into a blocking one);
  :func:`request`: one whose first step may run on the caller's thread (a request:
  its frame is written from there, only the reply crosses threads).
- :func:`on_loop`: a quick synchronous method whose state lives on the loop thread.
- :func:`direct`: a method that is safe on any thread, called where it is called.

Each keeps the async method's parameters (a ``ParamSpec``: mypy --strict and
pyright check the caller's arguments against the async definition), its name,
docstring and ``inspect.signature``.  A facade subclasses :class:`Facade` and
says where its async object is and how it reaches the loop thread; only what is
tied to the loop thread is written by hand.  Plain Python on purpose (it imports
nothing else from okx_ws_core), so the simulator can use it too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

A = TypeVar("A")  # the async object a facade fronts
P = ParamSpec("P")
T = TypeVar("T")
U = TypeVar("U")

# Called before each call with the facade and the call's keyword arguments (it may change
# them); returns what turns the coroutine's result into the blocking method's result.
Adapt = Callable[["Facade[Any]", dict[str, Any]], Callable[[Any], Any]]


class Facade(Generic[A]):
    """Base of a blocking facade over an object of type ``A`` living on a loop thread."""

    def _target(self) -> A:
        """The async object whose methods the derived ones call."""
        raise NotImplementedError

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop thread and return its result (the caller blocks)."""
        raise NotImplementedError

    def _on_loop(self, fn: Callable[[], T]) -> T:
        """Call ``fn()`` on the loop thread (where its state lives) and return its result."""
        raise NotImplementedError

    def _run_request(self, coro: Coroutine[Any, Any, T]) -> T:
        """Like :meth:`_run`; a facade whose loop can be lent runs the first step here."""
        return self._run(coro)


class Derived(Generic[A, P, T]):
    """A method of a :class:`Facade` derived from a method of its async object.

    A non-data descriptor: the first access on an instance binds it and stores
    the bound function in the instance, so later calls cost one plain call.
    """

    def __init__(self, method: Callable[Concatenate[A, P], Any], returns: object = None) -> None:
        self.method = method
        self.name: str = method.__name__
        self.__doc__ = method.__doc__
        signature = inspect.signature(method)
        if returns is not None:  # e.g. "Blocking{}": ChannelStream[X] -> BlockingChannelStream[X]
            annotation = str(signature.return_annotation)
            signature = signature.replace(return_annotation=str(returns).format(annotation))
        self.__signature__ = signature  # with ``self``, as an unbound method's

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Derived[A, P, T]: ...

    @overload
    def __get__(self, obj: Facade[A], owner: type[Any]) -> Callable[P, T]: ...

    def __get__(self, obj: Facade[A] | None, owner: type[Any]) -> Derived[A, P, T] | Callable[P, T]:
        if obj is None:
            return self
        bound = self._bind(obj)
        bound.__name__ = self.name
        bound.__qualname__ = f"{type(obj).__qualname__}.{self.name}"
        bound.__doc__ = self.__doc__
        parameters = list(self.__signature__.parameters.values())[1:]
        bound.__signature__ = self.__signature__.replace(parameters=parameters)  # type: ignore[attr-defined]
        obj.__dict__[self.name] = bound
        return bound

    def __call__(self, obj: Facade[A], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Called on the class, like an unbound method: ``WebsocketClient.connect(client, ...)``."""
        return self.__get__(obj, type(obj))(*args, **kwargs)

    def _bind(self, obj: Facade[A]) -> Callable[P, T]:
        raise NotImplementedError


class Blocking(Derived[A, P, T]):
    """A coroutine method run on the loop thread; the caller blocks until it ends."""

    def __init__(
        self,
        method: Callable[Concatenate[A, P], Coroutine[Any, Any, Any]],
        adapt: Adapt | None = None,
        returns: object = None,
        *,
        inline: bool = False,
    ) -> None:
        super().__init__(method, returns)
        self.adapt = adapt
        self.inline = inline

    def _bind(self, obj: Facade[A]) -> Callable[P, T]:
        method, target, adapt = self.method, obj._target, self.adapt
        run = obj._run_request if self.inline else obj._run
        if adapt is None:

            def call(*args: P.args, **kwargs: P.kwargs) -> T:
                result: T = run(method(target(), *args, **kwargs))
                return result

            return call

        def call_adapted(*args: P.args, **kwargs: P.kwargs) -> T:
            convert = adapt(obj, kwargs)
            result: T = convert(run(method(target(), *args, **kwargs)))
            return result

        return call_adapted


class OnLoop(Derived[A, P, T]):
    """A synchronous method whose state lives on the loop thread: called there."""

    def _bind(self, obj: Facade[A]) -> Callable[P, T]:
        method, target, on_loop = self.method, obj._target, obj._on_loop

        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            result: T = on_loop(lambda: method(target(), *args, **kwargs))
            return result

        return call


class Direct(Derived[A, P, T]):
    """A synchronous method that is safe on any thread (one atomic read or write)."""

    def _bind(self, obj: Facade[A]) -> Callable[P, T]:
        method, target = self.method, obj._target

        def call(*args: P.args, **kwargs: P.kwargs) -> T:
            result: T = method(target(), *args, **kwargs)
            return result

        return call


def blocking(method: Callable[Concatenate[A, P], Coroutine[Any, Any, T]]) -> Blocking[A, P, T]:
    """The blocking twin of the coroutine method ``method``: same parameters, its result."""
    return Blocking(method)


def request(method: Callable[Concatenate[A, P], Coroutine[Any, Any, T]]) -> Blocking[A, P, T]:
    """Like :func:`blocking`, for a request: its first step (validation, the frame's
    write) may run on the caller's thread while the loop thread waits for I/O."""
    return Blocking(method, inline=True)


def blocking_as(
    method: Callable[Concatenate[A, P], Coroutine[Any, Any, T]],
    adapt: Callable[[Facade[Any], dict[str, Any]], Callable[[T], U]],
    returns: object,
) -> Blocking[A, P, U]:
    """Like :func:`blocking`, with ``adapt`` (see :data:`Adapt`) converting the result;
    ``returns`` names the blocking result's type for ``inspect.signature``, ``{}``
    standing for the async one's (``"Blocking{}"``)."""
    return Blocking(method, adapt, returns)


def on_loop(method: Callable[Concatenate[A, P], T]) -> OnLoop[A, P, T]:
    """The twin of the synchronous ``method``, run on the loop thread where its state lives."""
    return OnLoop(method)


def direct(method: Callable[Concatenate[A, P], T]) -> Direct[A, P, T]:
    """The twin of ``method``, called on the caller's thread (it must be thread-safe)."""
    return Direct(method)


__all__ = [
    "Adapt",
    "Blocking",
    "Derived",
    "Direct",
    "Facade",
    "OnLoop",
    "blocking",
    "blocking_as",
    "direct",
    "on_loop",
    "request",
]
