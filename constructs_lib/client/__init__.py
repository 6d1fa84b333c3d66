"""Clients of deployed endpoints: ``runtime`` invokes them with ``accept_eula=true`` custom attributes."""
