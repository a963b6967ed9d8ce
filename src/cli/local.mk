# src/cli: sources, programs and tests of this module.
