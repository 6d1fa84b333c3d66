"""Where the rule engine meets synthesized output: template and cloud-assembly reading (pure Python, used by
``eulagate check`` without jsii), and the synth-time plugins ``EulaGate`` (``gate``) and ``EulaChecks`` (``nag``),
which start jsii and are imported only by name."""
