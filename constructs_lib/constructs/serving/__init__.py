"""Real-time endpoints: the shared base (``base``), ``JumpStartEndpoint`` and ``FineTunedEndpoint``."""
