"""streams.tools."""
