"""Data quality: one Great Expectations suite per stream, gating every batch."""
