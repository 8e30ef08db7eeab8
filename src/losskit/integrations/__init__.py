"""Integrations with training frameworks (imported on use: ``lk.torch`` is ``losskit.integrations.torch``)."""
