"""Configuration: every scheme's fees, thresholds, windows and periods, as data.

The values live in data/schemes/<scheme>.toml (and common.toml); `settings` declares each
key once (type, unit, meaning) and `loader` checks the files against the declarations and
answers "the value of this key on this day".
"""

from core.config.loader import SCHEMES_DIR, Config, ConfigError, Dated, current, load

__all__ = ["SCHEMES_DIR", "Config", "ConfigError", "Dated", "current", "load"]
