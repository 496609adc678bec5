"""Readers of integration source files, one module per format; each returns plain data with row numbers."""
