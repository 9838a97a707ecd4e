"""Output: the only writer of the output folder (atomic swap), and the audit of finished pages."""
