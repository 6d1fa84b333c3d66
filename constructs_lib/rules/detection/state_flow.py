"""What a Step Functions definition fixes about the data a task receives: its state input and its variables.

A request may be built before the task that sends it: a Pass state's ``Result``, ``Parameters`` (JSONPath) or
``Output`` (JSONata) writes literals into the state input, and an ``Assign`` sets variables. These are
evaluated, so a request the template fixes is judged as written, not as an unknown:

- a state's input is the output of the states that lead to it (``Next``, a Choice's ``Choices``/``Default``);
  when they disagree, or a path comes from outside (the execution's input, a ``Catch``, a branch's start), it is
  unknown. ``InputPath``, ``ResultPath`` and ``OutputPath`` are applied as Step Functions applies them; a task's
  result is unknown, so ``ResultPath: $.out`` leaves the rest of its input known;
- a variable is known where every path into the state agrees on the value the last ``Assign`` gave it; at the
  start of a Parallel branch or a Map's items, when every ``Assign`` of it in the definition gives the same fixed
  value (a read before any assignment fails the execution, so nothing deploys that way).

What is not fixed stays unknown (``UNKNOWN``, a token once it reaches a request), never acceptance.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from constructs_lib.rules.detection.decoding import follow
from constructs_lib.rules.evaluation.jsonata_reading import (
    UNKNOWN,
    Overlay,
    StateScope,
    json_path_value,
    known,
)
from constructs_lib.rules.evaluation.runtime_values import step_functions_values
from constructs_lib.rules.evaluation.values import TemplateContext

Keys = tuple[str | int, ...]
Data = tuple[Any, dict[str, Any]]  # a state's input and its known variables
_MAX_STATES = 2_000  # states whose data one task's request needs; past them the rest is unknown


def task_request(definition: Any, inner: Keys, context: TemplateContext, *, state_keys: Keys,
                 argument_key: str | None) -> Any:
    """The request a task sends, as far as the definition fixes it: its ``argument_key`` (``Parameters``,
    ``Arguments``) evaluated over its input and the variables, or (``None``) its input itself; then ``inner``."""
    state = follow(definition, state_keys)
    if not isinstance(state, dict):
        return UNKNOWN
    state_input, variables = _Flow(definition, context).data(state_keys, frozenset())
    scope = StateScope(state_input, variables)
    if argument_key is None:
        request = _apply_path(state.get("InputPath", "$"), scope) if not _jsonata(definition, state) else state_input
    else:
        effective = StateScope(_apply_path(state.get("InputPath", "$"), scope), variables)
        request = step_functions_values(state.get(argument_key), context, scope=effective)
    return known(follow(request, inner), context, "$states.input", "read from the state input")


def assigned_variables(definition: Any, context: TemplateContext) -> dict[str, Any]:
    """Each variable every ``Assign`` of the definition gives one fixed value (others are left out: unknown)."""
    values: dict[str, list[Any]] = {}
    for state in _all_states(definition, 0):
        assign = state.get("Assign")
        if not isinstance(assign, dict):
            continue
        # Assign values may read the state input or result: read without them, what they read is unknown.
        evaluated = step_functions_values(assign, context, scope=StateScope())
        for name, value in evaluated.items():
            values.setdefault(name, []).append(value)
    return {name: found[0] for name, found in values.items()
            if all(value == found[0] for value in found) and not context.tokens_in(repr(found[0]))}


def _all_states(container: Any, depth: int) -> Iterator[dict[str, Any]]:
    states = container.get("States") if isinstance(container, dict) else None
    if not isinstance(states, dict) or depth > 40:
        return
    for state in states.values():
        if isinstance(state, dict):
            yield state
            for branch in state.get("Branches") or ():
                yield from _all_states(branch, depth + 1)
            for processor in ("Iterator", "ItemProcessor"):
                yield from _all_states(state.get(processor), depth + 1)


def _jsonata(definition: Any, state: Mapping[str, Any]) -> bool:
    language = state.get("QueryLanguage", definition.get("QueryLanguage") if isinstance(definition, dict) else None)
    return language == "JSONata"


class _Flow:
    """The data of the states of one definition, each worked out once (the paths into a state can be
    exponentially many; the states are not)."""

    def __init__(self, definition: Any, context: TemplateContext) -> None:
        self.definition = definition
        self.context = context
        self.known: dict[Keys, Data] = {}
        self.entries: dict[Keys, dict[Any, list[Any]]] = {}  # container -> state name -> states that lead to it
        self.variables: dict[str, Any] | None = None

    def data(self, state_keys: Keys, visiting: frozenset[Keys]) -> Data:
        """The input of the state at ``state_keys`` and its known variables: what every state leading to it
        agrees to pass, else unknown. A loop back into ``visiting`` is unknown (sound: unknown is never
        acceptance), and so is a state past the budget."""
        found = self.known.get(state_keys)
        if found is not None:
            return found
        if state_keys in visiting or len(self.known) > _MAX_STATES or len(state_keys) < 2:
            return UNKNOWN, {}
        found = self.known[state_keys] = self._data(state_keys, visiting | {state_keys})
        return found

    def _data(self, state_keys: Keys, visiting: frozenset[Keys]) -> Data:
        container_keys, name = state_keys[:-2], state_keys[-1]
        container = follow(self.definition, container_keys)
        states = container.get("States") if isinstance(container, dict) else None
        if not isinstance(states, dict):
            return UNKNOWN, {}
        if container.get("StartAt") == name:  # the execution's (or a branch's, an item's) input
            if self.variables is None:
                self.variables = assigned_variables(self.definition, self.context)
            return UNKNOWN, self.variables
        arriving = []
        for other in self._entries(container_keys, states).get(name, ()):
            if other is None:
                return UNKNOWN, {}  # a Catch: an error output
            other_input, other_variables = self.data((*container_keys, "States", other), visiting)
            arriving.append(_output(self.definition, states[other], other_input, other_variables, self.context))
        if not arriving:
            return UNKNOWN, {}  # never reached: nothing it sends is deployed, and unknown is sound
        first_input, first_variables = arriving[0]
        return (first_input if all(data[0] == first_input for data in arriving[1:]) else UNKNOWN,
                {key: value for key, value in first_variables.items()
                 if all(data[1].get(key, UNKNOWN) == value for data in arriving[1:])})

    def _entries(self, container_keys: Keys, states: Mapping[str, Any]) -> dict[Any, list[Any]]:
        """State name -> the names of the states that lead to it (``None`` for a ``Catch``), once per container."""
        entries = self.entries.get(container_keys)
        if entries is None:
            entries = self.entries[container_keys] = {}
            for other, state in states.items():
                if not isinstance(state, dict):
                    continue
                for catcher in state.get("Catch") or ():
                    if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
                        entries.setdefault(catcher["Next"], []).append(None)
                for successor in _successors(state):
                    entries.setdefault(successor, []).append(other)
        return entries


def _successors(state: Mapping[str, Any]) -> set[str]:
    choices = state.get("Choices")
    found = [state.get("Next"), state.get("Default"), *(
        choice.get("Next") for choice in (choices if isinstance(choices, list) else ()) if isinstance(choice, dict))]
    return {name for name in found if isinstance(name, str)}


def _output(definition: Any, state: Mapping[str, Any], state_input: Any, variables: dict[str, Any],
            context: TemplateContext) -> tuple[Any, dict[str, Any]]:
    """What a state passes on, given its input and variables: its output, and the variables after its
    ``Assign`` (evaluated over its input, the variables before it, and an unknown result)."""
    assign = state.get("Assign")
    after = dict(variables)
    if isinstance(assign, dict):
        after.update(step_functions_values(assign, context, scope=StateScope(state_input, variables)))
    return _state_output(definition, state, state_input, variables, context), after


def _state_output(definition: Any, state: Mapping[str, Any], state_input: Any, variables: dict[str, Any],
                  context: TemplateContext) -> Any:
    kind = state.get("Type")
    if _jsonata(definition, state):
        if "Output" in state:
            return step_functions_values(state["Output"], context, scope=StateScope(state_input, variables))
        return state_input if kind in ("Pass", "Choice", "Wait") else UNKNOWN
    scope = StateScope(state_input, variables)
    effective = _apply_path(state.get("InputPath", "$"), scope)
    if kind in ("Choice", "Wait"):
        result = effective
        output = effective
    else:
        if kind == "Pass":
            if "Result" in state:
                result = state["Result"]
            elif "Parameters" in state:
                result = step_functions_values(state["Parameters"], context,
                                               scope=StateScope(effective, variables))
            else:
                result = effective
        else:
            result = UNKNOWN  # a task's, a Map's or a Parallel's result
        output = _place(state_input, state.get("ResultPath", "$"), result)
    return _apply_path(state.get("OutputPath", "$"), StateScope(output, variables))


def _apply_path(path: Any, scope: StateScope) -> Any:
    """``InputPath``/``OutputPath``: ``null`` passes an empty object; a path selects."""
    if path is None:
        return {}
    return json_path_value(path, scope) if isinstance(path, str) else UNKNOWN


def _place(state_input: Any, result_path: Any, result: Any) -> Any:
    """``ResultPath``: ``$`` replaces the input, ``null`` keeps it, ``$.a.b`` writes the result there."""
    if result_path is None:
        return state_input
    if result_path == "$":
        return result
    if not isinstance(result_path, str) or not result_path.startswith("$."):
        return UNKNOWN
    keys = result_path[2:].split(".")
    if not all(key and key.replace("_", "").replace("-", "").isalnum() for key in keys):
        return UNKNOWN
    return _with(state_input, keys, result)


def _with(base: Any, keys: list[str], value: Any) -> Any:
    if not keys:
        return value
    copy: dict[str, Any] = (type(base)(base) if isinstance(base, dict) else Overlay())
    copy[keys[0]] = _with(copy.get(keys[0], UNKNOWN if isinstance(copy, Overlay) else {}), keys[1:], value)
    return copy
