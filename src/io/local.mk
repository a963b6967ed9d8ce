# src/io: sources, programs and tests of this module.
