"""gie: shared kernel of the event-sourced Endpoint Picker."""
