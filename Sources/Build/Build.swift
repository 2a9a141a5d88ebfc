// The Build module. See docs/ARCHITECTURE.md.
