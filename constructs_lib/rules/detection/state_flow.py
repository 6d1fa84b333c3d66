"""What a Step Functions definition fixes about the data a task receives: its state input and its variables.

A request may be built before the task that sends it: a Pass state's ``Result``, ``Parameters`` (JSONPath) or
``Output`` (JSONata) writes literals into the state input, and an ``Assign`` sets variables. These are
evaluated, so a request the template fixes is judged as written, not as an unknown:

- a state's input is the output of the states that lead to it (``Next``, a Choice's ``Choices``/``Default``):
  each different output is kept apart, as one of the inputs the state may get (a task after a Choice between
  two Pass states sends one of two requests, each judged whole, never a mix of the two); past ``MAX_PATHS``
  different inputs they are joined part by part: where they disagree that part is unknown. Where a path comes
  from outside (the execution's input, a ``Catch``, a branch's start) all of it is unknown; loops are followed
  to a fixed point. ``InputPath``,
  ``ResultPath`` and ``OutputPath`` are applied as Step Functions applies them; a task's result is unknown, so
  ``ResultPath: $.out`` leaves the rest of its input known; a Parallel state's result is the list of what each
  branch's last states agree on, and a Map's ``ItemSelector`` (each item unknown), or else its items
  (``ItemsPath``), are the input of its item processor, which starts with what the items all agree on;
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
from constructs_lib.rules.evaluation.reader import Reader
from constructs_lib.rules.evaluation.runtime_values import step_functions_values
from constructs_lib.rules.evaluation.values import TemplateContext

Keys = tuple[str | int, ...]
Data = tuple[Any, dict[str, Any]]  # a state's input and its known variables
_MAX_STATES = 2_000  # states in one States map (more than Step Functions takes); past them every state is unknown
MAX_PATHS = 32  # different inputs a state keeps apart; past them they are joined (what they agree on)


def task_requests(definition: Any, inner: Keys, context: TemplateContext, *, state_keys: Keys,
                  argument_key: str | None) -> list[Any]:
    """The requests a task may send, as far as the definition fixes them, one for each input it may get: its
    ``argument_key`` (``Parameters``, ``Arguments``) evaluated over that input and the variables, or (``None``)
    the input itself; then ``inner``."""
    state = follow(definition, state_keys)
    if not isinstance(state, dict):
        return [UNKNOWN]
    requests: list[Any] = []
    jsonata = _jsonata(definition, state)
    for state_input, variables in _Flow(definition, context).data(state_keys):
        scope = StateScope(state_input, variables)
        if argument_key is None:
            request = _apply_path(state.get("InputPath", "$"), scope) if not jsonata else state_input
        else:
            effective = StateScope(_apply_path(state.get("InputPath", "$"), scope), variables)
            request = step_functions_values(state.get(argument_key), context, scope=effective)
        request = known(follow(request, inner), context, "$states.input", "read from the state input")
        if not any(_identical(request, other, 0) for other in requests):
            requests.append(request)
    return requests


def task_request(definition: Any, inner: Keys, reader: Reader, *, state_keys: Keys, argument_key: str | None
                 ) -> Any:
    """The request a task sends in this reading: where paths into it give different requests, each is a choice
    of the reading, so every one is judged whole (its location with its own acceptance)."""
    requests = task_requests(definition, inner, reader.context, state_keys=state_keys, argument_key=argument_key)
    if len(requests) == 1:
        return requests[0]
    path = reader.decide(f"Step Functions path into {'/'.join(map(str, state_keys))}", tuple(range(len(requests))))
    return requests[path]


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
    """The data of the states of one definition, solved once per States map as a fixed point: every state
    starts unreached, each takes the join of what reaches it (values that differ become unknown, and a state
    whose data changes twice keeps only what both agree on), until nothing changes. Loops are followed, and the
    paths into a state (exponentially many) are never walked one by one. Sound: a state's data describes every
    input an execution can give it, since the execution's input, a Catch and each branch's start are unknown."""

    def __init__(self, definition: Any, context: TemplateContext) -> None:
        self.definition = definition
        self.context = context
        self.known: dict[Keys, list[Data]] = {}  # a state's inputs (with their variables), kept apart
        self.solved: set[Keys] = set()
        self.variables: dict[str, Any] | None = None
        self.branch_outputs: dict[Keys, Any] = {}

    def data(self, state_keys: Keys) -> list[Data]:
        """The inputs the state at ``state_keys`` may get, each with its known variables."""
        container_keys = state_keys[:-2]
        if len(state_keys) >= 2 and container_keys not in self.solved:
            self.solved.add(container_keys)
            self._solve(container_keys)
        return self.known.get(state_keys, [(UNKNOWN, {})])

    def _solve(self, container_keys: Keys) -> None:
        container = follow(self.definition, container_keys)
        states = container.get("States") if isinstance(container, dict) else None
        if not isinstance(states, dict) or len(states) > _MAX_STATES:
            return  # every state unknown
        entries = self._entries(states)
        current: dict[str, list[Data] | None] = {
            name: None for name, state in states.items() if isinstance(state, dict)}
        fixed = {name for name, sources in entries.items() if None in sources}  # a Catch: an error output
        for name in fixed:
            current[name] = [(UNKNOWN, {})]
        start = container.get("StartAt")
        if start in current:  # the execution's (or a branch's, an item's) input
            if self.variables is None:
                self.variables = assigned_variables(self.definition, self.context)
            current[start] = [(UNKNOWN if start in fixed else self._items(container_keys),
                               {} if start in fixed else self.variables)]
            fixed.add(start)
        joined: set[str] = set()  # states with more different inputs than are kept apart: joined ever after
        # A state's inputs only grow, up to MAX_PATHS; once joined it changes at most twice more, and its
        # variables only shrink.
        for _ in range((MAX_PATHS + 3) * len(current) + 3):
            changed = False
            for name in current:
                arriving = [self._output((*container_keys, "States", source), states[source], *data)
                            for source in entries.get(name, ()) if source is not None
                            and (inputs := current.get(source)) is not None for data in inputs]
                if name in fixed or not arriving:
                    continue
                old = current[name]
                kept = list(old or ())
                for data in arriving:
                    if not any(_identical(data, other, 0) for other in kept):
                        kept.append(data)
                if name in joined or len(kept) > MAX_PATHS:
                    joined.add(name)
                    kept = [_join(kept)]
                if old is None or not _identical(kept, old, 0):
                    current[name], changed = kept, True
            if not changed:
                break
        else:
            return  # past the bound (never, by the argument above): every state unknown
        for name, inputs in current.items():
            if inputs is not None:  # a state nothing reaches runs never: unknown is sound
                self.known[(*container_keys, "States", name)] = inputs

    def _output(self, state_keys: Keys, state: Mapping[str, Any], state_input: Any, variables: dict[str, Any]
                ) -> Data:
        """What a state passes on, given its input and variables: its output, and the variables after its
        ``Assign`` (evaluated over its input, the variables before it, and an unknown result)."""
        assign = state.get("Assign")
        after = dict(variables)
        if isinstance(assign, dict):
            after.update(step_functions_values(assign, self.context, scope=StateScope(state_input, variables)))
        branches = state.get("Branches") if state.get("Type") == "Parallel" else None
        result = [self._branch_output((*state_keys, "Branches", index)) for index in range(len(branches))] \
            if isinstance(branches, list) else UNKNOWN
        return _state_output(self.definition, state, state_input, variables, self.context, result), after

    def _branch_output(self, branch_keys: Keys) -> Any:
        """What a Parallel branch outputs: what its last states (``End``, ``Succeed``) all agree on."""
        if branch_keys not in self.branch_outputs:
            self.branch_outputs[branch_keys] = UNKNOWN  # a branch is solved once; its input is unknown
            branch = follow(self.definition, branch_keys)
            states = branch.get("States") if isinstance(branch, dict) else None
            ends = [name for name, state in (states.items() if isinstance(states, dict) else ())
                    if isinstance(state, dict) and (state.get("End") is True or state.get("Type") == "Succeed")]
            for name in ends:
                self.data((*branch_keys, "States", name))  # solves the branch
            # A last state nothing reaches never runs; one reached gives its output (a Fail state gives none).
            outputs = [self._output(keys, states[name], *data)  # type: ignore[index]
                       for name in ends if (keys := (*branch_keys, "States", name)) in self.known
                       for data in self.known[keys]]
            self.branch_outputs[branch_keys] = _join(outputs)[0] if outputs else UNKNOWN
        return self.branch_outputs[branch_keys]

    def _items(self, container_keys: Keys) -> Any:
        """The input a Map's item processor starts with: its ``ItemSelector`` (``Parameters`` in older
        definitions) evaluated over the Map's input, each item unknown; without one, what every item of its
        ``ItemsPath`` (JSONPath, without ``ItemReader``) agrees on; otherwise (a branch, the execution) unknown."""
        if len(container_keys) < 2 or container_keys[-1] not in ("ItemProcessor", "Iterator"):
            return UNKNOWN
        state = follow(self.definition, container_keys[:-1])
        if not isinstance(state, dict) or state.get("Type") != "Map":
            return UNKNOWN
        jsonata = _jsonata(self.definition, state)
        selector = state.get("ItemSelector", None if jsonata else state.get("Parameters"))
        if selector is None and (jsonata or "ItemReader" in state):
            return UNKNOWN
        state_input, variables = _join(self.data(container_keys[:-1]))
        effective = state_input if jsonata else _apply_path(state.get("InputPath", "$"),
                                                            StateScope(state_input, variables))
        if selector is not None:
            return step_functions_values(selector, self.context, scope=StateScope(effective, variables))
        items_path = state.get("ItemsPath", "$")
        items = json_path_value(items_path, StateScope(effective, variables)) if isinstance(items_path, str) \
            else UNKNOWN
        if not (isinstance(items, list) and items):
            return UNKNOWN
        return _join([(item, {}) for item in items])[0]

    @staticmethod
    def _entries(states: Mapping[str, Any]) -> dict[Any, list[Any]]:
        """State name -> the names of the states that lead to it (``None`` for a ``Catch``)."""
        entries: dict[Any, list[Any]] = {}
        for other, state in states.items():
            if not isinstance(state, dict):
                continue
            for catcher in state.get("Catch") or ():
                if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
                    entries.setdefault(catcher["Next"], []).append(None)
            for successor in _successors(state):
                entries.setdefault(successor, []).append(other)
        return entries


def _join(arriving: list[Data]) -> Data:
    """What every one of ``arriving`` agrees on: the parts of the input all give alike (the rest unknown), and
    the variables all give the same value."""
    joined_input = arriving[0][0]
    for data in arriving[1:]:
        joined_input = _agree(joined_input, data[0], 0)
    first_variables = arriving[0][1]
    return (joined_input, {key: value for key, value in first_variables.items()
                           if all(data[1].get(key, UNKNOWN) == value for data in arriving[1:])})


def _identical(left: Any, right: Any, depth: int) -> bool:
    """Equal, and alike in kind all the way down: an ``Overlay`` (other keys unknown) is not the plain object
    with the same keys (other keys absent)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict) and depth < 40:
        return left.keys() == right.keys() and all(_identical(left[key], right[key], depth + 1) for key in left)
    if isinstance(left, list | tuple) and depth < 40:
        return len(left) == len(right) and all(_identical(a, b, depth + 1) for a, b in zip(left, right, strict=True))
    return bool(left == right)


def _agree(left: Any, right: Any, depth: int) -> Any:
    """Two values joined: equal parts kept, objects key by key (a key one of them lacks may be there: unknown),
    others unknown. An object of which only some keys are known stays one."""
    if left == right and type(left) is type(right):
        return left
    if isinstance(left, dict) and isinstance(right, dict) and depth < 40:
        joined = {key: _agree(left.get(key, UNKNOWN), right.get(key, UNKNOWN), depth + 1)
                  for key in {**left, **right}}
        return Overlay(joined) if isinstance(left, Overlay) or isinstance(right, Overlay) else joined
    return UNKNOWN


def _successors(state: Mapping[str, Any]) -> set[str]:
    choices = state.get("Choices")
    found = [state.get("Next"), state.get("Default"), *(
        choice.get("Next") for choice in (choices if isinstance(choices, list) else ()) if isinstance(choice, dict))]
    return {name for name in found if isinstance(name, str)}


def _state_output(definition: Any, state: Mapping[str, Any], state_input: Any, variables: dict[str, Any],
                  context: TemplateContext, branch_outputs: Any) -> Any:
    """A state's output; ``branch_outputs``: a Parallel state's result (its branches' outputs), else unknown."""
    kind = state.get("Type")
    if _jsonata(definition, state):
        if "Output" in state:
            return step_functions_values(state["Output"], context, scope=StateScope(state_input, variables))
        if kind == "Parallel":
            return branch_outputs
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
        elif kind == "Parallel" and "ResultSelector" not in state:
            result = branch_outputs
        else:
            result = UNKNOWN  # a task's or a Map's result
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
