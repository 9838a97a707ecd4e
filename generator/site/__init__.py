"""The site: Documents and Entities -> a linked Site (tags, aliases, [[links]], backlinks) and its URLs."""
