"""Destinations: where matched events go (fb_capi, webhook, s2s_postback) and their event maps."""
