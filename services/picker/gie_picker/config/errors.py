"""The one error of configuration loading."""

from __future__ import annotations

from collections.abc import Iterable


class ConfigError(Exception):
    """The configuration is invalid. ``problems`` holds one line per problem, each
    naming where it is (the plugin's index, name and type; the field)."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("a ConfigError needs at least one problem")
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid EndpointPickerConfig, {len(self.problems)} {noun}:\n{lines}")
