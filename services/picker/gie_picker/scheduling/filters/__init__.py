"""Built-in filters: narrow the candidate endpoints of a request."""

from __future__ import annotations

from gie_picker.scheduling.filters.header_based_testing_filter import (
    HEADER,
    HeaderBasedTestingFilter,
)

__all__ = ["HEADER", "HeaderBasedTestingFilter"]
