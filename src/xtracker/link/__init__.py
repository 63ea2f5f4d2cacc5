"""Links: trackable entry points, each with its own landing page."""
