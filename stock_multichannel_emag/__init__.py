from . import adapter, controllers, models
