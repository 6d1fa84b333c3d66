"""Application Auto Scaling of SageMaker endpoints, one way for every mode: a scalable target, a target-tracking
policy, and the scale-out-from-zero policy the SageMaker guide documents for what scales to zero (a step policy
adding one unit, run by a CloudWatch alarm on a metric that says a request found no capacity)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from constructs_lib.constructs.serving.access import SAGEMAKER_NAMESPACE


@dataclass(frozen=True, kw_only=True)
class ZeroCapacityAlarm:
    """The metric that says requests wait with no capacity, as the SageMaker guide sets its alarm."""

    metric_name: str
    dimension: tuple[str, str]  # (name, value)
    statistic: str
    period_seconds: int
    evaluation_periods: int
    description: str


def scalable_target(scope: Construct, *, dimension: str, resource_id: str, min_capacity: int,
                    max_capacity: int) -> autoscaling.CfnScalableTarget:
    return autoscaling.CfnScalableTarget(
        scope, "ScalableTarget", service_namespace="sagemaker", scalable_dimension=dimension,
        resource_id=resource_id, min_capacity=min_capacity, max_capacity=max_capacity,
    )


def target_tracking(
    scope: Construct, target: autoscaling.CfnScalableTarget, *, policy_name: str, target_value: float,
    scale_in_cooldown: int, scale_out_cooldown: int, predefined_metric: str | None = None,
    customized_metric: tuple[str, tuple[str, str], str] | None = None,
) -> autoscaling.CfnScalingPolicy:
    """Target tracking on a predefined metric, or on a customized one: (name, (dimension name, value), statistic)."""
    customized = None
    if customized_metric is not None:
        name, (dimension_name, dimension_value), statistic = customized_metric
        customized = autoscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty(
            metric_name=name, namespace=SAGEMAKER_NAMESPACE, statistic=statistic,
            dimensions=[autoscaling.CfnScalingPolicy.MetricDimensionProperty(name=dimension_name,
                                                                              value=dimension_value)],
        )
    return autoscaling.CfnScalingPolicy(
        scope, "ScalingPolicy",
        policy_name=policy_name,
        policy_type="TargetTrackingScaling",
        scaling_target_id=target.ref,
        target_tracking_scaling_policy_configuration=(
            autoscaling.CfnScalingPolicy.TargetTrackingScalingPolicyConfigurationProperty(
                target_value=target_value,
                predefined_metric_specification=autoscaling.CfnScalingPolicy.PredefinedMetricSpecificationProperty(
                    predefined_metric_type=predefined_metric) if predefined_metric else None,
                customized_metric_specification=customized,
                scale_in_cooldown=scale_in_cooldown,
                scale_out_cooldown=scale_out_cooldown,
            )
        ),
    )


def scale_out_from_zero(scope: Construct, target: autoscaling.CfnScalableTarget, alarm: ZeroCapacityAlarm, *,
                        cooldown: int) -> cloudwatch.CfnAlarm:
    """A step policy adding one unit (``ChangeInCapacity`` +1) and the alarm that runs it."""
    step = autoscaling.CfnScalingPolicy(
        scope, "ScaleOutFromZero",
        policy_name="ScaleOutFromZero",
        policy_type="StepScaling",
        scaling_target_id=target.ref,
        step_scaling_policy_configuration=autoscaling.CfnScalingPolicy.StepScalingPolicyConfigurationProperty(
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type=alarm.statistic,
            cooldown=cooldown,
            step_adjustments=[autoscaling.CfnScalingPolicy.StepAdjustmentProperty(
                metric_interval_lower_bound=0, scaling_adjustment=1)],
        ),
    )
    name, value = alarm.dimension
    return cloudwatch.CfnAlarm(
        scope, "ZeroCapacityAlarm",
        alarm_description=alarm.description,
        namespace=SAGEMAKER_NAMESPACE,
        metric_name=alarm.metric_name,
        dimensions=[cloudwatch.CfnAlarm.DimensionProperty(name=name, value=value)],
        statistic=alarm.statistic,
        period=alarm.period_seconds,
        evaluation_periods=alarm.evaluation_periods,
        datapoints_to_alarm=alarm.evaluation_periods,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="missing",
        alarm_actions=[step.attr_arn],
    )
