"""channelsync channel plugin: wechat (being written)."""
