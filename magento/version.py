"""The portal's version, sent to stores in the User-Agent so merchants can recognise our calls."""

__version__ = "0.1.0"
