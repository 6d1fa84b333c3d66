"""``VpcPlacement``, importable from here as before; it lives in ``constructs_lib.props`` with the other props
(jsii-free, so the model table resolves a row's ``vpc:`` into it)."""

from constructs_lib.props.placement import VpcPlacement

__all__ = ["VpcPlacement"]
