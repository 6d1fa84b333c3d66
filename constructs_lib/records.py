"""Records: classes of plain data that behave as ``@dataclass(frozen=True)`` classes, and cost nothing to define.

``eulagate check`` defines a dozen such classes before it reads a template. As dataclasses they took a third of a
short run's instructions: ``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and ``tokenize``), and
each dataclass compiles its methods from generated source when it is defined, in every process.

A ``Record`` subclass writes its own ``__init__``: its parameters are the fields, in order, all stored with one
``vars(self).update(...)`` (past the frozen ``__setattr__``, as a frozen dataclass stores them). From this base
it gets what a frozen dataclass has: equality and hash over the fields (equal only to an instance of the same
class), a ``repr`` of them (``_hidden_from_repr`` leaves some out), ``__match_args__`` and immutability
(``dataclasses.FrozenInstanceError``). ``dataclasses.fields``, ``replace``,
``asdict``, ``astuple`` and ``is_dataclass`` work on a record as on the dataclass it stands for: that metadata is
made with ``dataclasses`` the first time something reads it. Inside the package, ``replace`` and ``field_values``
here stand for ``dataclasses.replace`` and a flat ``dataclasses.asdict``, without importing it.

A field whose dataclass default would be ``field(default_factory=dict)`` takes ``NEW_DICT`` as its default, and
``__init__`` stores ``made(value)``: a fresh dict when the default is given.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, ClassVar, TypeVar


class Factory:
    """The default of a field whose value ``make`` makes afresh for each record (shown as a dataclass shows it)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make

    def __repr__(self) -> str:
        return "<factory>"


NEW_DICT: Any = Factory(dict)  # typed Any: it stands for the dict it makes, as a parameter's default


class _DataclassMetadata:
    """A record class's ``__dataclass_fields__`` or ``__dataclass_params__``: those of the frozen dataclass with
    the same fields, defaults and annotations, made on first read and then stored on the class itself."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, instance: object, owner: type[Record]) -> Any:
        if owner is Record:
            raise AttributeError(self.attribute)  # the base is no dataclass
        import dataclasses

        init = owner.__init__
        code = init.__code__
        positional = code.co_varnames[1:code.co_argcount]
        given = init.__defaults__ or ()
        defaults: dict[str, Any] = dict(zip(positional[len(positional) - len(given):], given, strict=True))
        defaults.update(init.__kwdefaults__ or {})
        namespace: dict[str, Any] = {"__annotations__": {name: owner.__annotations__.get(name, "Any")
                                                         for name in owner._fields}}
        for name in owner._fields:
            options: dict[str, Any] = {"repr": name not in owner._hidden_from_repr,
                                       "kw_only": name not in positional}
            if name in defaults:
                default = defaults[name]
                if isinstance(default, Factory):
                    options["default_factory"] = default.make
                else:
                    options["default"] = default
            namespace[name] = dataclasses.field(**options)
        twin: Any = dataclasses.dataclass(frozen=True)(type(owner.__name__, (), namespace))
        type.__setattr__(owner, "__dataclass_fields__", twin.__dataclass_fields__)
        type.__setattr__(owner, "__dataclass_params__", twin.__dataclass_params__)
        return owner.__dict__[self.attribute]


class Record:
    """Base of the frozen plain-data classes (module docstring)."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _hidden_from_repr: ClassVar[frozenset[str]] = frozenset()
    __match_args__: ClassVar[tuple[str, ...]]
    _getter: ClassVar[attrgetter[Any]]  # the fields' values (for equality and hash)
    __dataclass_fields__: ClassVar[Any] = _DataclassMetadata("__dataclass_fields__")
    __dataclass_params__: ClassVar[Any] = _DataclassMetadata("__dataclass_params__")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__init__.__code__
        cls._fields = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
        type.__setattr__(cls, "__match_args__", code.co_varnames[1:code.co_argcount])  # positional ones, as a dataclass
        cls._getter = attrgetter(*cls._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            getter = self._getter
            return bool(getter(self) == getter(other))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._getter(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields
                          if name not in self._hidden_from_repr)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen(name)

    def __delattr__(self, name: str) -> None:
        raise _frozen(name)


def _frozen(name: str) -> Exception:
    import dataclasses

    return dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


_R = TypeVar("_R", bound=Record)  # the class itself: a bound spelled as a string would be compiled at import


def made(value: Any) -> Any:
    """A field's value as given to a record's ``__init__``: a ``Factory`` default makes a fresh one."""
    return value.make() if isinstance(value, Factory) else value


def replace(record: _R, /, **changes: Any) -> _R:
    """A copy of ``record`` with ``changes``, as ``dataclasses.replace`` makes it."""
    for name in record._fields:
        if name not in changes:
            changes[name] = getattr(record, name)
    return type(record)(**changes)


def field_values(record: Record) -> dict[str, Any]:
    """Field name -> value: ``dataclasses.asdict`` for a record whose values hold no records or containers."""
    return {name: getattr(record, name) for name in record._fields}
