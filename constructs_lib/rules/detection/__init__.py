"""Request detection, above the evaluator: where a template asks SageMaker to deploy or fine-tune a model."""
