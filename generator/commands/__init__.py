"""Commands: build, check, serve (+ watcher), deploy, new/init, and the CLI: the only place that prints or exits."""
