"""The CDK constructs (they start jsii): serving endpoints (``serving/``) and fine-tuning jobs (``jobs/``)."""
