"""XTRACKER — self-hosted conversion tracker for Telegram funnels and affiliate offers."""

__version__ = "0.1.0"
