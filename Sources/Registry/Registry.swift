// The Registry module. See docs/ARCHITECTURE.md.
