"""Content: files -> SourceDoc -> frozen Document/Entity (and the cache of what was read)."""
