# src/dist: sources, programs and tests of this module.
