"""Notifications: escalation chains and channels (buzzer/LED, MQTT, webhooks, e-mail)."""
