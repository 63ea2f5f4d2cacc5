"""The web UI: sign-in, the four admin screens and the ops deck, served by the same process."""
