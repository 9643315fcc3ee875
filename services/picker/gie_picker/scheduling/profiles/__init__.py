"""Built-in profile handlers: which profiles run, and which one routes."""

from __future__ import annotations

from gie_picker.scheduling.profiles.single_profile_handler import SingleProfileHandler

__all__ = ["SingleProfileHandler"]
