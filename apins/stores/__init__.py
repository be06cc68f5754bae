"""Stores: the byte-moving drivers under every path-based board."""
