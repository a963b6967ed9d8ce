# src/io/config.mk
