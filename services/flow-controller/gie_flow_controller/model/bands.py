"""BandTable: every band's effective settings, computed once per priority."""

from __future__ import annotations

from gie.flowcontrol import BandSettings, FlowControlConfig
from gie_flow_controller.model.records import Limits, TokenWeights


class BandTable:
    """Effective band settings and the limits and weights derived from them.

    Bands are created on demand: an unlisted priority gets ``defaultPriorityBand``.
    Not thread-safe; share within one event loop.
    """

    def __init__(self, config: FlowControlConfig) -> None:
        self.config = config
        self._bands: dict[int, BandSettings] = {}

    def band(self, priority: int) -> BandSettings:
        settings = self._bands.get(priority)
        if settings is None:
            settings = self._bands[priority] = self.config.band(priority)
        return settings

    def limits(self, priority: int) -> Limits:
        band = self.band(priority)
        return Limits(
            band_max_bytes=band.max_bytes,
            band_max_requests=band.max_requests,
            pool_max_bytes=self.config.max_bytes,
            pool_max_requests=self.config.max_requests,
        )

    def weights(self, priority: int) -> TokenWeights:
        weights = self.band(priority).token_weights
        return TokenWeights(weights.input_token_weight, weights.output_token_weight)
