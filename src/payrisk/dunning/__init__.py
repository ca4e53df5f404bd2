"""A thin dunning-policy engine: per segment a track of steps, timed to the customer's rhythm, with guards.

Examples
--------
>>> import payrisk as pr
>>> policy = pr.dunning.Policy.default()
>>> [s.channel for s in policy.tracks["chronic"].steps]
['email', 'sms', 'letter', 'phone', 'legal']
"""

from payrisk.dunning._plan import plan_actions, to_contacts
from payrisk.dunning._policy import Guards, PlanOffers, Policy, Step, Timing, Track
from payrisk.dunning._timing import send_days

__all__ = ["Guards", "PlanOffers", "Policy", "Step", "Timing", "Track", "plan_actions", "send_days", "to_contacts"]
