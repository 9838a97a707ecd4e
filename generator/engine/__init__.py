"""The incremental build: which pages' inputs changed, what to render, the saved state."""
