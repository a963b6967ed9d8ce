# src/data: sources, programs and tests of this module.
