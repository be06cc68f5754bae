"""Test servers that apins ships for its own tests and for users' tests.

``apins.testing.connect`` holds an emulator of the part of the Posit Connect API that pins use.
Nothing here is imported by ``import apins``.
"""
