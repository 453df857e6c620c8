"""Alert rules declared in the config (``[[rules]]``): one module per kind, and the engine."""
