"""The CustomAttributes parser and formatter (SageMaker's header rules, JumpStart's key=value convention)."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from constructs_lib.client.runtime import (
    MAX_CUSTOM_ATTRIBUTES_LENGTH,
    CustomAttributesError,
    format_custom_attributes,
    parse_custom_attributes,
    with_eula_acceptance,
)

VISIBLE = "".join(chr(c) for c in range(0x21, 0x7F))


# --- parsing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("accept_eula=true", {"accept_eula": "true"}),
        ("accept_eula=false;accept_eula=true", {"accept_eula": "true"}),
        ("accept_eula=true;accept_eula=false", {"accept_eula": "false"}),
        ("  trace = abc-1 ;  accept_eula=true  ", {"trace": "abc-1", "accept_eula": "true"}),
        ("a=1;b=2;a=3", {"a": "3", "b": "2"}),
        ("token=YWJj==", {"token": "YWJj=="}),
        ("note=two words", {"note": "two words"}),
        ("empty=", {"empty": ""}),
        ("", {}),
        ("   ", {}),
    ],
)
def test_parse(text: str, expected: dict[str, str]) -> None:
    assert parse_custom_attributes(text) == expected


def test_parse_keeps_the_last_value_in_its_first_position() -> None:
    assert list(parse_custom_attributes("a=1;b=2;a=3")) == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accept_eula", "is not a key=value pair"),
        ("=true", "is not a key=value pair"),
        ("a=1;;b=2", "is not a key=value pair"),
        ("a=1;", "is not a key=value pair"),
        ("my key=1", "must not contain spaces"),
        ("name=caf\u00e9", "visible US-ASCII"),
        ("a=1\nb=2", "visible US-ASCII"),
        ("a=1\rX-Injected: yes", "visible US-ASCII"),
        ("k=" + "v" * (MAX_CUSTOM_ATTRIBUTES_LENGTH - 1), "at most 1024"),
    ],
)
def test_parse_rejects(text: str, message: str) -> None:
    with pytest.raises(CustomAttributesError, match=message) as raised:
        parse_custom_attributes(text)
    assert isinstance(raised.value, ValueError)
    assert "\n" not in str(raised.value)


def test_parse_accepts_exactly_1024_characters() -> None:
    text = "k=" + "v" * (MAX_CUSTOM_ATTRIBUTES_LENGTH - 2)
    assert parse_custom_attributes(text) == {"k": "v" * (MAX_CUSTOM_ATTRIBUTES_LENGTH - 2)}


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(CustomAttributesError, match="must be a string"):
        parse_custom_attributes(b"accept_eula=true")  # type: ignore[arg-type]


# --- formatting ------------------------------------------------------------------------------------------


def test_format_joins_pairs_in_order() -> None:
    assert format_custom_attributes({"trace": "abc", "accept_eula": "true"}) == "trace=abc;accept_eula=true"
    assert format_custom_attributes({}) == ""


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"a": "1;b=2"}, "must not contain ';'"),
        ({"a=b": "1"}, "without spaces, '=' or ';'"),
        ({"a;b": "1"}, "without spaces, '=' or ';'"),
        ({"my key": "1"}, "without spaces"),
        ({"": "1"}, "without spaces"),
        ({"a": " padded"}, "start or end with whitespace"),
        ({"a": True}, "must be strings"),
        ({"a": "caf\u00e9"}, "visible US-ASCII"),
        ({"k": "v" * MAX_CUSTOM_ATTRIBUTES_LENGTH}, "at most 1024"),
    ],
)
def test_format_rejects(mapping: dict[str, str], message: str) -> None:
    with pytest.raises(CustomAttributesError, match=message):
        format_custom_attributes(mapping)


# --- EULA acceptance ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_attributes", "expected"),
    [
        (None, "accept_eula=true"),
        ("", "accept_eula=true"),
        ("trace=abc", "trace=abc;accept_eula=true"),
        ({"trace": "abc"}, "trace=abc;accept_eula=true"),
        ("accept_eula=true;trace=abc", "accept_eula=true;trace=abc"),
        ("accept_eula=True", "accept_eula=true"),
        ("accept_eula=false;accept_eula=true", "accept_eula=true"),
    ],
)
def test_with_eula_acceptance(given_attributes: object, expected: str) -> None:
    assert with_eula_acceptance(given_attributes) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("contradiction", ["accept_eula=false", "accept_eula=true;accept_eula=no", {"accept_eula": ""}])
def test_with_eula_acceptance_refuses_a_contradiction(contradiction: object) -> None:
    with pytest.raises(CustomAttributesError, match="drop one of them"):
        with_eula_acceptance(contradiction)  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------------------------------

keys = st.text(alphabet=VISIBLE.replace("=", "").replace(";", ""), min_size=1, max_size=20)
values = st.text(alphabet=VISIBLE.replace(";", "") + " ", max_size=40).map(str.strip)
mappings = st.dictionaries(keys, values, max_size=12)


@settings(deadline=None)
@given(mappings)
def test_format_then_parse_returns_the_mapping(mapping: dict[str, str]) -> None:
    assume(sum(len(k) + len(v) + 2 for k, v in mapping.items()) <= MAX_CUSTOM_ATTRIBUTES_LENGTH)
    assert parse_custom_attributes(format_custom_attributes(mapping)) == mapping


@settings(deadline=None)
@given(mappings, mappings)
def test_later_pairs_win(first: dict[str, str], second: dict[str, str]) -> None:
    assume(first and second)
    text = format_custom_attributes(first) + ";" + format_custom_attributes(second)
    assume(len(text) <= MAX_CUSTOM_ATTRIBUTES_LENGTH)
    assert parse_custom_attributes(text) == {**first, **second}


@settings(deadline=None)
@given(mappings, st.lists(st.sampled_from(" \t"), max_size=3).map("".join))
def test_whitespace_around_pairs_does_not_matter(mapping: dict[str, str], pad: str) -> None:
    assume(mapping)
    text = ";".join(f"{pad}{key}{pad}={pad}{value}{pad}" for key, value in mapping.items())
    assume(len(text) <= MAX_CUSTOM_ATTRIBUTES_LENGTH)
    assert parse_custom_attributes(text) == mapping


@settings(deadline=None)
@given(st.text(alphabet=string.printable + "\u00e9\x00", max_size=60))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_custom_attributes(text)
    except CustomAttributesError:
        return
    # Whatever parses formats back to text that parses to the same mapping.
    assert parse_custom_attributes(format_custom_attributes(parsed)) == parsed
