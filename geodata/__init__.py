"""wangge core: geometry, households and analysis for township grid management."""

__version__ = "0.1.0"
