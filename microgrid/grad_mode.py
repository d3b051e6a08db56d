"""Grad mode: whether operations on Values record their parents (a graph) or not.

The mode lives in a :class:`contextvars.ContextVar`, so it is per thread and per asyncio
task, as PyTorch's is per thread: a thread that evaluates a net under ``no_grad()`` never
switches off the graph of a thread that trains it.

This module imports the standard library only.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["no_grad", "is_grad_enabled", "GRAD_MODE"]

_F = TypeVar("_F", bound=Callable[..., Any])

GRAD_MODE: ContextVar[bool] = ContextVar("microgrid_grad_mode", default=True)
"""True where operations record parents (the default in every new thread), False in no_grad()."""
_exit_tokens: ContextVar[tuple[Token[bool], ...]] = ContextVar("microgrid_no_grad_exits", default=())


def is_grad_enabled() -> bool:
    """True unless inside a ``no_grad()`` block of this thread (or asyncio task)."""
    return GRAD_MODE.get()


class no_grad:  # noqa: N801 - lower case, as torch.no_grad and the ``with no_grad():`` it reads as
    """Inside this block operations record no parents: results are leaves, no graph grows.

    Use it for evaluation and for optimizer updates, as a block or as a decorator::

        with no_grad():
            out = net(x)

        @no_grad()
        def evaluate(net, xs): ...

    Grad mode is kept in a :class:`contextvars.ContextVar`, so it is per thread and per
    asyncio task: a thread evaluating under ``no_grad()`` never switches off the graph of
    a thread that trains. On exit the mode is restored exactly to what it was on entry,
    however blocks of different threads interleave. A decorated ``async def`` runs its
    whole body without grad. A task created inside the block starts without grad too (it
    copies the context, as every contextvars-based setting does).
    """

    __slots__ = ()

    def __init__(self, func: object = None) -> None:
        if func is not None:
            raise TypeError("write @no_grad() with parentheses (or 'with no_grad():')")

    def __enter__(self) -> None:
        # the token that undoes this entry is kept in the context, not on the instance,
        # so one no_grad() object can be entered by several threads or tasks at once
        _exit_tokens.set((*_exit_tokens.get(), GRAD_MODE.set(False)))

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        stack = _exit_tokens.get()
        if not stack:
            raise RuntimeError("no_grad() exited without a matching enter in this thread or task")
        _exit_tokens.set(stack[:-1])
        GRAD_MODE.reset(stack[-1])

    def __call__(self, func: _F) -> _F:
        """Decorate ``func`` so each call runs under a fresh ``no_grad()`` block."""
        if not callable(func):
            raise TypeError(f"no_grad() decorates a function, got {type(func).__name__}: {func!r:.60}")
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"no_grad() cannot decorate the generator function {func.__qualname__}: its body runs "
                "after the call returns; use 'with no_grad():' inside it"
            )
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with no_grad():
                    return await func(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]
