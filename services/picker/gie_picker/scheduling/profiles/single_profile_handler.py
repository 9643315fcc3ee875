"""``single-profile-handler``: run the one profile; it is the primary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gie_picker.scheduling.contracts import (
    PluginContext,
    ProfileRunner,
    ProfileRunResult,
    SchedulingRequest,
)
from gie_picker.scheduling.errors import SchedulingError
from gie_picker.scheduling.parameters import NoParameters


class SingleProfileHandler:
    """Runs every profile once (the config allows only one) and makes it primary."""

    TYPE: ClassVar[str] = "single-profile-handler"

    def __init__(self, name: str = TYPE) -> None:
        self.name = name

    @classmethod
    def create(
        cls, name: str, params: NoParameters, context: PluginContext
    ) -> SingleProfileHandler:
        return cls(name)

    def pick_profiles(
        self,
        request: SchedulingRequest,
        profiles: Mapping[str, ProfileRunner],
        results: Mapping[str, ProfileRunResult | None],
    ) -> Mapping[str, ProfileRunner]:
        return {} if results else profiles

    def process_results(
        self, request: SchedulingRequest, results: Mapping[str, ProfileRunResult | None]
    ) -> str:
        if len(results) != 1:
            raise SchedulingError(
                f"single-profile-handler expects one profile result, got {len(results)}"
            )
        return next(iter(results))
