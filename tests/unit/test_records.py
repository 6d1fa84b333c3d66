"""``constructs_lib.records``: a record behaves as the frozen dataclass it stands for, without importing
``dataclasses`` until something asks for its dataclass metadata."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
import pkgutil
from collections.abc import Mapping
from typing import Any

import pytest

import constructs_lib
from constructs_lib import records
from constructs_lib.catalog import ModelSpec
from constructs_lib.records import NEW_DICT, Factory, Record, made
from constructs_lib.rules import Finding


class Sample(Record):
    name: str
    size: int
    tags: Mapping[str, str]
    note: str | None
    _hidden_from_repr = frozenset({"note"})

    def __init__(self, name: str, size: int = 1, tags: Mapping[str, str] = NEW_DICT, *,
                 note: str | None = None) -> None:
        vars(self).update(name=name, size=size, tags=made(tags), note=note)


@dataclasses.dataclass(frozen=True)
class SampleDataclass:
    """What ``Sample`` stands for."""

    name: str
    size: int = 1
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    note: str | None = dataclasses.field(default=None, repr=False, kw_only=True)


def test_a_record_compares_hashes_and_shows_as_its_dataclass() -> None:
    record, twin = Sample("a", 2, note="n"), SampleDataclass("a", 2, note="n")
    assert repr(record) == repr(twin).replace("SampleDataclass", "Sample") == "Sample(name='a', size=2, tags={})"
    assert record == Sample("a", 2, note="n") and record != Sample("a", 2, note="m") and record != Sample("b", 2)
    assert record != twin and record != ("a", 2, {}, "n")  # equal only to a record of its own class
    assert Sample.__match_args__ == SampleDataclass.__match_args__ == ("name", "size", "tags")
    assert Sample("a").tags == {} and Sample("a").tags is not Sample("a").tags  # a fresh value per record
    frozen = Sample("a", tags={"k": "v"}).__dict__ == {"name": "a", "size": 1, "tags": {"k": "v"}, "note": None}
    assert frozen
    assert hash(Finding("EULA001", "error", "t", "L", "T", None, "m", "f")) == hash(
        Finding("EULA001", "error", "t", "L", "T", None, "m", "f"))


def test_a_record_is_frozen() -> None:
    record = Sample("a")
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'size'"):
        record.size = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        del record.name


def test_the_dataclass_functions_work_on_a_record() -> None:
    record: Any = Sample("a", 2, {"k": "v"}, note="n")  # Any: type checkers know these functions on dataclasses
    assert dataclasses.is_dataclass(Sample("b")) and dataclasses.is_dataclass(type(record))
    assert not dataclasses.is_dataclass(Record)
    assert [(f.name, f.default, f.repr, f.kw_only) for f in dataclasses.fields(Sample)] == [
        (f.name, f.default, f.repr, f.kw_only) for f in dataclasses.fields(SampleDataclass)]
    assert dataclasses.fields(Sample)[2].default_factory is dict
    assert dataclasses.replace(record, size=3) == records.replace(record, size=3) == Sample("a", 3, {"k": "v"},
                                                                                             note="n")
    assert dataclasses.asdict(record) == dataclasses.asdict(SampleDataclass("a", 2, {"k": "v"}, note="n"))
    assert dataclasses.astuple(record) == ("a", 2, {"k": "v"}, "n")
    assert records.field_values(record) == {"name": "a", "size": 2, "tags": {"k": "v"}, "note": "n"}
    assert pickle.loads(pickle.dumps(record)) == record == copy.deepcopy(record) == copy.copy(record)


def test_a_dataclass_may_extend_a_public_record() -> None:
    @dataclasses.dataclass(frozen=True)
    class Annotated(Finding):
        reviewer: str = ""

    made: Any = Annotated  # Any: type checkers do not see the fields a dataclass inherits from a record
    finding = made("EULA001", "error", "t", "L", "T", None, "m", "f", reviewer="me")
    assert finding.reviewer == "me" and dataclasses.replace(finding, line=3).line == 3
    with pytest.raises(TypeError, match="non-frozen"):
        dataclasses.dataclass(type("Mutable", (Finding,), {"__annotations__": {"extra": "int"}, "extra": 0}))


def _record_classes() -> list[type[Record]]:
    for module in pkgutil.walk_packages(constructs_lib.__path__, "constructs_lib."):
        if not any(part in module.name for part in ("handlers", "constructs_lib.constructs", "synth.gate",
                                                        "synth.nag", "client", "runtime", "cli.invoke", "cli.hook")):
            importlib.import_module(module.name)

    def subclasses(cls: type[Record]) -> list[type[Record]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]
    return [cls for cls in subclasses(Record) if cls.__module__.startswith("constructs_lib.")]


@pytest.mark.parametrize("cls", _record_classes(), ids=lambda cls: cls.__qualname__)
def test_each_record_declares_the_fields_its_init_stores(cls: type[Record]) -> None:
    """The class body's annotations (what type checkers read) are the ``__init__`` parameters, in order, and a
    record made with each one's default holds exactly them."""
    defining = next(base for base in cls.__mro__ if "__init__" in vars(base))  # a subclass may keep its base's
    declared = tuple(name for name, annotation in inspect.get_annotations(defining).items()
                     if not str(annotation).startswith("ClassVar"))
    assert declared == cls._fields
    parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
    arguments: dict[str, Any] = {p.name: (f"<{p.name}>" if p.default is p.empty else p.default) for p in parameters}
    made = cls(**arguments)
    assert made.__dict__.keys() == set(cls._fields)
    for name, given in arguments.items():
        assert getattr(made, name) == ({} if isinstance(given, Factory) else given)


def test_the_public_records_are_dataclasses_to_their_users() -> None:
    assert dataclasses.is_dataclass(Finding) and dataclasses.is_dataclass(ModelSpec)
    assert [f.name for f in dataclasses.fields(ModelSpec) if not f.repr] == [
        "images", "model_package_arns", "training", "all_model_package_arns"]
