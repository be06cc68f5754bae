"""Backends: how a Board finds pins and versions (path layout on a Store, or Connect)."""
