# configs: sources, programs and tests of this module.
