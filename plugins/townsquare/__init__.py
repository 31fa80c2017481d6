"""Townsquare: community analytics from internet traffic to contributors to revenue."""

__version__ = "0.1.0"
