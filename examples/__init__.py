"""Example programs built on gie's public interfaces."""
