# src/hw: sources, programs and tests of this module.
