"""Route modules: auth (login/logout/account), pages, the JSON API and operations (health, metrics)."""
