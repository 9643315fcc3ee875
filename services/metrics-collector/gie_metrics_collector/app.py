"""Wiring of the metrics-collector: endpoint events → scrape loops → metrics events.

The endpoint set is folded from the state stream; a change starts or stops
scrape tasks. All tasks share one HTTP client on one event loop.
"""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import Gauge

from gie.bus import STATE, Deliver
from gie.events import EndpointRemoved, EndpointUpserted, Event
from gie.events.subjects import pool_prefix
from gie.service import ServiceKit
from gie.view import PoolView
from gie_metrics_collector.scraper import EndpointScraper, ScrapeMetrics
from gie_metrics_collector.settings import CollectorSettings


async def run(settings: CollectorSettings, stop: asyncio.Event) -> None:
    async with ServiceKit("metrics-collector", settings) as kit, httpx.AsyncClient() as client:
        scrape_metrics = ScrapeMetrics(kit.registry)
        scraped = Gauge(
            "gie_collector_endpoints", "Endpoints being scraped.", registry=kit.registry
        )
        view = PoolView(settings.pool)
        tasks: dict[str, asyncio.Task[None]] = {}

        def sync_tasks() -> None:
            wanted = {state.address for state in view.endpoints()}
            for address in set(tasks) - wanted:
                tasks.pop(address).cancel()
            for address in sorted(wanted - set(tasks)):
                scraper = EndpointScraper(
                    address, client=client, bus=kit.bus, settings=settings, metrics=scrape_metrics
                )
                tasks[address] = asyncio.create_task(scraper.run(), name=f"scrape {address}")
            scraped.set(len(tasks))

        def on_event(event: Event) -> None:
            if isinstance(event, EndpointUpserted | EndpointRemoved) and view.apply(event):
                sync_tasks()

        following = await kit.bus.follow(
            STATE,
            f"{pool_prefix(settings.pool)}.endpoint.>",
            on_event,
            deliver=Deliver.LAST_PER_SUBJECT,
        )
        kit.health.add_check(
            "endpoints", lambda: None if following.caught_up.is_set() else "replaying endpoints"
        )
        try:
            await stop.wait()
        finally:
            await following.stop()
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
