# src/core/net.mk
