"""Bearer secrets and ingest tokens: minted, hashed, rotated with a grace period, checked."""
