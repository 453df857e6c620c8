"""The district service: every site on one screen, from the central broker and store (built from dashboard parts)."""
