"""Senders: fb_capi, webhook and s2s_postback. Each returns an outcome; none raises for a
failed delivery."""
