"""The pure core of notifications: who is told, through which channel, with which text."""
