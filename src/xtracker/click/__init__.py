"""Clicks: landing visits and back-filled clicks, enriched with device, country and campaign."""
