"""Regional dashboards: the latest-result read model and the figures built on it."""
