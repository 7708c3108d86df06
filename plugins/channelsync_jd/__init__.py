"""channelsync channel plugin: jd (being written)."""
