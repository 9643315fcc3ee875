"""Scheduling: choosing the endpoint for a request from the pool view."""

from __future__ import annotations

from gie_picker.scheduling.shortest_queue import ShortestQueuePicker

__all__ = ["ShortestQueuePicker"]
