"""Mosquitto set-up for one site: per-client passwords, an ACL, a site CA and the broker's listeners.

``houqin mqtt setup`` writes every file from the site's config; ``add-device``, ``rotate`` and ``remove``
change one client's credentials and rules and make the running broker reload them.
"""
