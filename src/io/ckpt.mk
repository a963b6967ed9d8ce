# src/io/ckpt.mk
