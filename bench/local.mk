# bench: sources, programs and tests of this module.
