"""Fine-tuning jobs as custom resources: the shared base, ``AutoMLFineTuningJob``, ``JumpStartFineTuningJob``,
and their boto3 handlers (``handlers/``, plain files bundled into the Lambda functions)."""
