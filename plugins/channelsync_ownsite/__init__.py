"""channelsync channel plugin: ownsite (being written)."""
