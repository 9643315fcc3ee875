"""Version 1 of the flow-controller API: ``flow_control.proto`` and its generated stubs."""
