# docs: sources, programs and tests of this module.
