"""Admission: Admit calls (admit, then wait for the outcome) and completions.

:class:`Admitter` serves one Admit call; :class:`OutcomeWaiters` wakes waiting calls
from outcome notices and polling; :class:`Completions` applies ``RequestCompleted``.
Everything runs on the service's event loop.
"""

from __future__ import annotations

from gie_flow_controller.admission.admitter import Admitter
from gie_flow_controller.admission.completions import Completions
from gie_flow_controller.admission.waiters import OutcomeWaiters

__all__ = ["Admitter", "Completions", "OutcomeWaiters"]
