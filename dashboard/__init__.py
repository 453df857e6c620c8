"""Houqin dashboard: FastAPI pages and JSON API."""
