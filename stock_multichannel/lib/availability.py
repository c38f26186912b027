"""What quantity a channel is shown, from free stock and the channel's policy."""

import math


def apply_policy(free, pending=0.0, held_back=0, percent=100.0, maximum=0):
    """Quantity to show a channel, as a whole number of units.

    ``free`` is the free stock over the channel's sources (on hand minus reserved),
    ``pending`` the quantity of orders known but not yet reserved. ``held_back`` units
    are kept out of every channel, ``percent`` of the rest is allocated, and the result
    never exceeds ``maximum`` (0 means no maximum) nor drops below zero.
    """
    # round away float noise before flooring: 2.9999999999 units are 3 units
    quantity = round(free - pending - held_back, 6)
    quantity = math.floor(round(quantity * percent / 100.0, 6))
    quantity = max(0, quantity)
    if maximum and maximum > 0:
        quantity = min(quantity, maximum)
    return int(quantity)
