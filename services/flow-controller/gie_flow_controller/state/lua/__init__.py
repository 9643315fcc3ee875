"""The flow state's Lua scripts (data files: ``common.lua`` prefixes each of the others)."""
