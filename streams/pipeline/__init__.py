"""streams.pipeline."""
