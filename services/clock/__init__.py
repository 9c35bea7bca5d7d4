"""clock: one clock.day_started per day of the territory."""
