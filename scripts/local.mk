# scripts/: set-up, data fetch and tools (distributed, not installed).
EXTRA_DIST += scripts/install-deps.sh scripts/test.sh scripts/quickstart.sh scripts/ablate.sh
