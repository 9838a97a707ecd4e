"""Pages: Site -> [Page(path, template, context)], Jinja, and the feature pages (search, svg, exports)."""
