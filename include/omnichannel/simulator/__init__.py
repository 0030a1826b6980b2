"""Channel simulator: a deterministic commerce world behind copies of each channel's API."""
