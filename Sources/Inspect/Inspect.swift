// The Inspect module. See docs/ARCHITECTURE.md.
