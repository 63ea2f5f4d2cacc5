"""The ``xtracker`` command line."""
