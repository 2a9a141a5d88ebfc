// The OCI module. See docs/ARCHITECTURE.md.
