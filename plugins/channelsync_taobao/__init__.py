"""channelsync channel plugin: taobao (being written)."""
