from . import adapter
from . import models
