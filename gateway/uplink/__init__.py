"""The site's uplink to the district: readings to a central store, alerts and status to a central broker."""
