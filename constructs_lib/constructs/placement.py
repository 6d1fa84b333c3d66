"""``VpcPlacement`` and the network grants of a placement, importable from here as before; they live in
``constructs_lib.props`` with the other props (jsii-free, so the model table resolves a row's ``vpc:`` into them)."""

from constructs_lib.props.placement import NetworkGrant, VpcPlacement, network_interface_grants

__all__ = ["NetworkGrant", "VpcPlacement", "network_interface_grants"]
