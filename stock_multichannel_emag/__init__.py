from . import adapter, models
