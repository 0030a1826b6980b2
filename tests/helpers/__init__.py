"""What tests share: one place for helpers, so that no test module imports another."""
