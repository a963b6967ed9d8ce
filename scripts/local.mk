# scripts: sources, programs and tests of this module.
