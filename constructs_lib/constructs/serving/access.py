"""What every endpoint offers its users, as aws-cdk-lib's L2s do: ``grant_invoke``, ``metric_*`` helpers, and
``from_endpoint_name``/``from_endpoint_arn`` for endpoints made elsewhere.

Metrics are SageMaker's invocation metrics in ``AWS/SageMaker`` (dimensions ``EndpointName`` and
``VariantName``, or ``InferenceComponentName`` for a component), and an asynchronous endpoint's backlog metrics
(``ApproximateBacklogSize``, ``HasBacklogWithoutCapacity``, dimension ``EndpointName``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.errors import ConstructValidationError

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
VARIANT_NAME = "AllTraffic"
# A request may name an inference component; IAM then checks the component as well as the endpoint.
INVOKE_ACTIONS = ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync",
                  "sagemaker:InvokeEndpointWithResponseStream")
ENDPOINT_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):endpoint/(?P<name>[^/]+)\Z")
ENDPOINT_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}\Z")


class EndpointAccess(Construct):
    """An endpoint, for the code that uses it: its name and ARN, who may invoke it, and its metrics."""

    endpoint_name: str
    """The endpoint's name."""
    endpoint_arn: str
    """The endpoint's ARN."""

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke the endpoint (real-time, asynchronous and streaming), and nothing else."""
        return iam.Grant.add_to_principal(grantee=grantee, actions=list(INVOKE_ACTIONS),
                                          resource_arns=[self.endpoint_arn])

    def metric(self, metric_name: str, *, statistic: str = "Sum", period: cdk.Duration | None = None,
               dimensions: dict[str, str] | None = None) -> cloudwatch.Metric:
        """A metric of the endpoint in ``AWS/SageMaker`` (by endpoint and variant unless ``dimensions``)."""
        return cloudwatch.Metric(
            namespace=SAGEMAKER_NAMESPACE, metric_name=metric_name, statistic=statistic,
            period=period or cdk.Duration.minutes(5),
            dimensions_map=dimensions or {"EndpointName": self.endpoint_name, "VariantName": VARIANT_NAME},
        )

    def metric_invocations(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """Requests the endpoint served (sum)."""
        return self.metric("Invocations", period=period)

    def metric_model_latency(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """Time the model took to answer, in microseconds (average)."""
        return self.metric("ModelLatency", statistic="Average", period=period)

    def metric_invocation_errors(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """Requests the model failed on (``Invocation5XXErrors``, sum)."""
        return self.metric("Invocation5XXErrors", period=period)

    def metric_client_errors(self, *, period: cdk.Duration | None = None) -> cloudwatch.Metric:
        """Requests refused as malformed or unauthorized (``Invocation4XXErrors``, sum)."""
        return self.metric("Invocation4XXErrors", period=period)

    @classmethod
    def from_endpoint_name(cls, scope: Construct, id: str, endpoint_name: str) -> ImportedEndpoint:
        """An endpoint made elsewhere, in the scope's account and region, by name: grants and metrics only."""
        return import_by_name(scope, id, endpoint_name)

    @classmethod
    def from_endpoint_arn(cls, scope: Construct, id: str, endpoint_arn: str) -> ImportedEndpoint:
        """An endpoint made elsewhere, by ARN: grants and metrics only."""
        return import_by_arn(scope, id, endpoint_arn)


class ImportedEndpoint(EndpointAccess):
    """An endpoint made elsewhere (``from_endpoint_name``/``from_endpoint_arn``): grants and metrics only."""

    def __init__(self, scope: Construct, id: str, *, endpoint_name: str, endpoint_arn: str) -> None:
        super().__init__(scope, id)
        self.endpoint_name = endpoint_name
        self.endpoint_arn = endpoint_arn


def import_by_name(scope: Construct, id: str, endpoint_name: str) -> ImportedEndpoint:
    """An endpoint of the scope's account and region, by name."""
    if not cdk.Token.is_unresolved(endpoint_name) and not ENDPOINT_NAME_PATTERN.match(str(endpoint_name)):
        raise ConstructValidationError(f"{scope.node.path}/{id}", f"endpoint name {endpoint_name!r} is not a "
                                       "SageMaker endpoint name (1-63 letters, digits and hyphens)")
    arn = cdk.Stack.of(scope).format_arn(service="sagemaker", resource="endpoint",
                                         resource_name=str(endpoint_name).lower())
    return ImportedEndpoint(scope, id, endpoint_name=endpoint_name, endpoint_arn=arn)


def import_by_arn(scope: Construct, id: str, endpoint_arn: str) -> ImportedEndpoint:
    """An endpoint by ARN (``arn:aws:sagemaker:<region>:<account>:endpoint/<name>``)."""
    if cdk.Token.is_unresolved(endpoint_arn):
        name = cdk.Fn.select(1, cdk.Fn.split("/", endpoint_arn))
        return ImportedEndpoint(scope, id, endpoint_name=name, endpoint_arn=endpoint_arn)
    match = ENDPOINT_ARN_PATTERN.match(endpoint_arn)
    if match is None:
        raise ConstructValidationError(f"{scope.node.path}/{id}", f"{endpoint_arn!r} is not an endpoint ARN "
                                       "(arn:aws:sagemaker:<region>:<account>:endpoint/<name>)")
    return ImportedEndpoint(scope, id, endpoint_name=match["name"], endpoint_arn=endpoint_arn)


def component_arn(endpoint_arn: str, component_name: str) -> Any:
    """The ARN of an inference component in the endpoint's account and region."""
    return cdk.Fn.join("", [cdk.Fn.select(0, cdk.Fn.split(":endpoint/", endpoint_arn)),
                            f":inference-component/{component_name}"]) \
        if cdk.Token.is_unresolved(endpoint_arn) \
        else f"{endpoint_arn.split(':endpoint/', 1)[0]}:inference-component/{component_name}"


def grant_component_invoke(grantee: iam.IGrantable, endpoint_arn: str, component_names: Sequence[str]) -> iam.Grant:
    """Invoke of the named components only: IAM checks a request naming a component against the endpoint and
    the component, so other components of the endpoint stay out of reach."""
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=list(INVOKE_ACTIONS),
        resource_arns=[endpoint_arn, *(component_arn(endpoint_arn, name) for name in component_names)],
    )
