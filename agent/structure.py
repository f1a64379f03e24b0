"""Structuring JSON from editors into dataclasses with cattrs: camelCase keys, strict types.

cattrs does the walking, the renaming and the error collection; the hooks here refuse what a
lenient conversion would let through (`true` as a number, `"5"` as an int, NaN, 1e400), and
`refusals` turns cattrs's error tree into (path, what was wrong) pairs that ponder words itself.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Iterator
from typing import Any, NewType

import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ponder.agent.quoting import quoted

NonNegative = NewType("NonNegative", int)  # a line or a character of an LSP position


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _strict_bool(value: Any, _type: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {quoted(value)}")
    return value


def _number(kind: type) -> Any:
    def structure(value: Any, _type: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number, got {quoted(value)}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int too large for a float
            finite = False
        if not finite:
            raise ValueError(f"must be a finite number, got {quoted(value)}")
        if kind is int and value != int(value):
            raise ValueError(f"must be a whole number, got {quoted(value)}")
        return kind(value)

    return structure


def _non_negative(value: Any, _type: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be a non-negative integer, got {quoted(value)}")
    return value


def _strict_str(value: Any, _type: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {quoted(value)}")
    return value


def _token(value: Any, _type: Any) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"must be a string or an integer, got {quoted(value)}")
    return value


def _choice(value: Any, literal: Any) -> Any:
    choices = typing.get_args(literal)
    if isinstance(value, bool) or value not in choices:  # True == 1: never a choice
        raise ValueError(f"must be one of {', '.join(map(str, choices))}, got {quoted(value)}")
    return value


class NotAnObject(TypeError):
    """A dataclass was given something other than a JSON object."""


def _object_only(structure_fn: Any) -> Any:
    def hook(value: Any, cls: Any) -> Any:
        if not isinstance(value, dict):
            raise NotAnObject(f"must be an object, got {quoted(value)}")
        return structure_fn(value, cls)

    return hook


def converter(
    classes: tuple[type, ...],
    forbid_extra_keys: bool,
    private: dict[type, tuple[str, ...]] | None = None,
) -> cattrs.Converter:
    """A converter for these dataclasses: camelCase keys, the strict hooks above; a class's
    `private` fields are never unstructured (nor read: they keep their defaults)."""
    conv = cattrs.Converter(forbid_extra_keys=forbid_extra_keys, detailed_validation=True)
    conv.register_structure_hook(bool, _strict_bool)  # before int: bool is an int
    conv.register_structure_hook(int, _number(int))
    conv.register_structure_hook(float, _number(float))
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(NonNegative, _non_negative)
    conv.register_structure_hook(int | str | None, _token)  # a progress token
    conv.register_structure_hook_func(lambda t: typing.get_origin(t) is typing.Literal, _choice)
    for cls in classes:
        hidden = (private or {}).get(cls, ())
        names: dict[str, Any] = {
            f.name: override(omit=True) if f.name in hidden else override(rename=camel(f.name))
            for f in dataclasses.fields(cls)
        }
        fn: Any = make_dict_structure_fn(
            cls, conv, _cattrs_forbid_extra_keys=forbid_extra_keys, **names
        )
        conv.register_structure_hook(cls, _object_only(fn))
        conv.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, conv, **names))
    return conv


def nested(cls: type, name: str) -> type | None:
    """The dataclass that field `name` of `cls` holds (`X` or `X | None`), else None."""
    hint = typing.get_type_hints(cls)[name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def fields_of(cls: type, path: tuple[str, ...] = ()) -> list[str]:
    """The camelCase keys of `cls`, or of the dataclass at `path` inside it ([] if none is)."""
    for key in path:
        inner = nested(cls, snake(key))
        if inner is None:
            return []
        cls = inner
    return [camel(f.name) for f in dataclasses.fields(cls)]


Refusal = tuple[tuple[str, ...], str, str]  # (path of camelCase keys, kind, detail)


def value_at(tree: Any, path: tuple[str, ...]) -> Any:
    """The value a refusal's path names in the structured JSON (a list's items by index)."""
    for key in path:
        tree = tree[int(key)] if isinstance(tree, list) else tree[key]
    return tree


def _item_class(cls: type, name: str) -> type | None:
    """The dataclass a list field `name` of `cls` holds (`list[X]`), else None."""
    args = typing.get_args(typing.get_type_hints(cls)[name])
    item = args[0] if args else None
    return item if isinstance(item, type) and dataclasses.is_dataclass(item) else None


def _item_refusals(
    error: IterableValidationError, item_cls: type | None, where: tuple[str, ...]
) -> Iterator[Refusal]:
    for sub in error.exceptions:
        index = next(n.index for n in sub.__notes__ if isinstance(n, IterableValidationNote))
        here = (*where, str(index))
        if isinstance(sub, ClassValidationError) and item_cls:
            yield from refusals(sub, item_cls, here)
        elif isinstance(sub, NotAnObject):
            yield here, "object", ""
        else:
            yield here, "value", str(sub)


def refusals(
    error: ClassValidationError, cls: type, path: tuple[str, ...] = ()
) -> Iterator[Refusal]:
    """What cattrs refused, as (path, kind, detail); kind is "unknown" (a key no field has),
    "missing" (a required key), "object" (a dataclass given something else) or "value" (a hook's
    message in detail)."""
    for sub in error.exceptions:
        if isinstance(sub, ForbiddenExtraKeysError):
            yield from (((*path, key), "unknown", "") for key in sorted(sub.extra_fields))
            continue
        name = next(n.name for n in sub.__notes__ if isinstance(n, AttributeValidationNote))
        inner, where = nested(cls, name), (*path, camel(name))
        if isinstance(sub, ClassValidationError) and inner:
            yield from refusals(sub, inner, where)
        elif isinstance(sub, IterableValidationError):
            yield from _item_refusals(sub, _item_class(cls, name), where)
        elif isinstance(sub, KeyError):
            yield where, "missing", ""
        elif isinstance(sub, NotAnObject):
            yield where, "object", ""
        else:
            yield where, "value", str(sub)
