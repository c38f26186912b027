from . import multichannel_channel
