"""Configuration package: config classes chosen by ``APP_ENV``; see :mod:`config.settings`."""

from config.settings import (  # noqa: F401
    BaseConfig,
    ConfigurationError,
    DevelopmentConfig,
    ProductionConfig,
    TestConfig,
    select_config,
)
