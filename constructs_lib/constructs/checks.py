"""Checks every construct of the package makes of its scope and props, in one place.

Each raises ``ConstructValidationError`` with the construct's path, so an app of many endpoints and jobs points
at the one that is wrong.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from constructs_lib.aws_names import is_token
from constructs_lib.catalog import CatalogError, ModelSpec
from constructs_lib.errors import ConstructError, ConstructValidationError

# What checking a construct's props raises below the construct (a catalog look-up, a struct, a helper), which
# the construct re-raises as one ConstructValidationError naming itself.
PROP_ERRORS = (ValueError, CatalogError)

_REGION_BY_STACK: weakref.WeakKeyDictionary[cdk.Stack, str] = weakref.WeakKeyDictionary()


def concrete_region(construct: Construct) -> str:
    """The region of the construct's stack, which must be concrete: JumpStart images and artifacts are regional.

    Read once per stack (every jsii call costs; a table may put hundreds of constructs in one stack).
    """
    stack = cdk.Stack.of(construct)
    region = _REGION_BY_STACK.get(stack)
    if region is None:
        region = stack.region
        if is_token(region):
            raise ConstructValidationError(
                construct.node.path, f"{type(construct).__name__} needs a concrete region to pick the model's "
                "images and artifacts, but its stack is environment-agnostic; create the stack with "
                "env=Environment(region=\"us-east-1\") (or another region)"
            )
        _REGION_BY_STACK[stack] = region
    return region


def check_accept_eula(construct: Construct, accept_eula: Any, spec: ModelSpec) -> None:
    """Acceptance is True, False or not set, decided at synth time; accepting a model without an EULA only
    earns a warning."""
    if accept_eula is not None and not isinstance(accept_eula, bool):
        raise ConstructValidationError(
            construct.node.path, f"accept_eula must be True, False or None (not set), not {accept_eula!r}: "
            "acceptance is a literal decision at synth time, never a deploy-time value"
        )
    if accept_eula and not spec.gated:
        cdk.Annotations.of(construct).add_warning_v2(
            "eulagate:accept-eula-not-needed", f"{spec.display_name} has no EULA to accept; accept_eula has no effect",
        )


@contextmanager
def props_checked_by(construct: Construct) -> Iterator[None]:
    """Re-raise a bad prop found in the block (``ValueError``, a catalog error such as ``UnknownModelError``) as a
    ``ConstructValidationError`` with the construct path, so a table of many constructs points at the wrong one.
    The original error stays reachable as ``__cause__``."""
    try:
        yield
    except ConstructError:  # already names its construct
        raise
    except PROP_ERRORS as error:
        raise ConstructValidationError(construct.node.path, str(error)) from error
