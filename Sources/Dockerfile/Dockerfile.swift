// The Dockerfile module. See docs/ARCHITECTURE.md.
