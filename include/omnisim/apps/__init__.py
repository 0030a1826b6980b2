"""Per-kind apps: each answers one channel kind's API over the world."""
