"""Adapters: storage, notifications, files and clocks around the pure core."""
