# src/core/optim.mk
