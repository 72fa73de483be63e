"""tongban (通办): a platform on which a Chinese city delivers government services."""

__version__ = "0.1.0"
