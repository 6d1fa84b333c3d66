"""``Fn::FindInMap``: the values a lookup may find, with keys known or not, and its ``DefaultValue``.

A key known only at deployment (typically ``AWS::Region``) matches every key of the mapping; a key with known
candidates matches those. A lookup that may miss finds its ``DefaultValue`` (``AWS::LanguageExtensions``), or
fails the deployment (so it deploys nothing). Mappings hold literals, so the values found are all there is.
"""

from collections.abc import Mapping
from typing import Any, NamedTuple

from constructs_lib.rules.evaluation.conditions import OTHER, compared_parameter, parameter_domain
from constructs_lib.rules.evaluation.reader import Reader, register
from constructs_lib.rules.evaluation.values import ABSENT, DeploymentFails, has_tokens, parameter_choice

NONE_OF_THE_KEYS = "\U000ffffe"  # a key text that matches no key (outside the token range: never rendered)


class _Lookup(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    tables: list[dict[str, Any]]  # the mappings the name may select
    name: str
    top: str
    second: str
    may_miss: bool  # the name may select no mapping
    default: Any  # DefaultValue, or ABSENT


@register("Fn::FindInMap")
def render_find_in_map(reader: Reader, argument: Any, depth: int) -> str:
    lookup = _lookup(reader, argument, depth)
    if lookup is None:
        return reader.opaque({"Fn::FindInMap": argument})
    cells = _cells(reader, lookup)
    if not cells:
        raise DeploymentFails(f"Fn::FindInMap {reader.context.display(lookup.name)} finds no value")
    texts = [reader.render(cell, depth) or "" for cell in cells if not isinstance(cell, list | dict)]
    if not has_tokens(lookup.top + lookup.second + lookup.name) and len(texts) == 1 == len(cells):
        return texts[0]
    tokens = reader.context.tokens_in(lookup.name + lookup.top + lookup.second)
    unknown = "; ".join(dict.fromkeys(token.description for token in tokens)) or "known keys"
    name = reader.context.display(lookup.name)
    return reader.context.choice(f"${{Fn::FindInMap {name}}}", f"Fn::FindInMap {name} keyed by {unknown}", texts,
                                 complete=len(texts) == len(cells))


def find_in_map_lists(reader: Reader, argument: Any, depth: int) -> tuple[list[list[Any]], bool]:
    """The lists a list-valued lookup may find, and whether it finds nothing else."""
    lookup = _lookup(reader, argument, depth)
    if lookup is None:
        return [], False
    cells = _cells(reader, lookup)
    lists = [cell for cell in cells if isinstance(cell, list)]
    return lists, len(lists) == len(cells)


def _lookup(reader: Reader, argument: Any, depth: int) -> _Lookup | None:
    if not (isinstance(argument, list) and len(argument) in (3, 4)):
        return None
    keys = [reader.render(argument[0], depth), *(_key_text(reader, argument, position, depth) for position in (1, 2))]
    name, top, second = keys
    if name is None or top is None or second is None:
        return None
    default = reader.field(argument[3], "DefaultValue") if len(argument) == 4 else ABSENT
    names, may_miss = _matching(reader, name, reader.context.mappings)
    tables = [table for table in (reader.context.mappings.get(key) for key in names) if isinstance(table, dict)]
    return _Lookup(tables, name, top, second, may_miss or len(tables) < len(names), default)


def _key_text(reader: Reader, argument: list[Any], position: int, depth: int) -> str | None:
    """A lookup key as text. A parameter (typically AWS::Region) that keys a literal mapping takes one of the
    mapping's keys, or none of them (``NONE_OF_THE_KEYS``), per reading: lookups keyed by it and conditions on
    it agree within a reading."""
    parameter = compared_parameter(reader, argument[position])
    table = reader.context.mappings.get(argument[0]) if isinstance(argument[0], str) else None
    if parameter is not None and isinstance(table, dict):
        keys = table if position == 1 else {key for row in table.values() if isinstance(row, dict) for key in row}
        domain = parameter_domain(reader.context, parameter)
        # "None of the literals" is then none of the keys: the lookup misses.
        if OTHER in domain and set(keys) <= set(domain) and reader.decide(parameter_choice(parameter), domain) is OTHER:
            return NONE_OF_THE_KEYS
    return reader.render(argument[position], depth)


def _matching(reader: Reader, text: str, mapping: Mapping[str, Any]) -> tuple[list[str], bool]:
    """The keys of ``mapping`` a key text may be, and whether it may be none of them."""
    if text == NONE_OF_THE_KEYS:
        return [], True
    options = reader.context.expand(text)
    if any(has_tokens(option) for option in options):
        return list(mapping), True
    return [option for option in options if option in mapping], any(option not in mapping for option in options)


def _cells(reader: Reader, lookup: _Lookup) -> list[Any]:
    """Every value the lookup may find (its DefaultValue when it may miss)."""
    cells: list[Any] = []
    may_miss = lookup.may_miss
    for table in lookup.tables:
        tops, top_missing = _matching(reader, lookup.top, table)
        may_miss = may_miss or top_missing
        for top in tops:
            row = table[top]
            if not isinstance(row, dict):
                may_miss = True
                continue
            seconds, second_missing = _matching(reader, lookup.second, row)
            may_miss = may_miss or second_missing
            cells.extend(row[second] for second in seconds)
    if may_miss and lookup.default is not ABSENT:
        cells.append(lookup.default)
    return cells
