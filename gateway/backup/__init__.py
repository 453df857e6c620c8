"""Backups: consistent online copies of every database and the gateway's secret files, verified, and restore."""
