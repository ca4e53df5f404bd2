"""A thin dunning-policy engine: per segment a track of steps, timed to the customer's rhythm, with guards,
plan offers gated by the adherence model, champion/challenger tests and a measured comparison of tones.

Examples
--------
>>> import payrisk as pr
>>> policy = pr.dunning.Policy.default()
>>> [s.channel for s in policy.tracks["chronic"].steps]
['email', 'sms', 'letter', 'phone', 'legal']
"""

from payrisk.dunning._collect import (
    Capacity,
    allocate,
    gain_planner,
    oracle_planner,
    plan_collections,
    rule_planner,
    simulate_collections,
)
from payrisk.dunning._effects import ToneEffect, estimate_tone_effect
from payrisk.dunning._experiment import Experiment, assign_arms, evaluate_policies
from payrisk.dunning._plan import plan_actions, to_contacts
from payrisk.dunning._policy import Guards, PlanOffers, Policy, Step, Timing, Track
from payrisk.dunning._response import RESPONSE_FEATURES, ResponseModel
from payrisk.dunning._simulate import TONE_SCALE, simulate_policies
from payrisk.dunning._timing import send_days

__all__ = [
    "RESPONSE_FEATURES",
    "TONE_SCALE",
    "Capacity",
    "Experiment",
    "Guards",
    "PlanOffers",
    "Policy",
    "ResponseModel",
    "Step",
    "Timing",
    "ToneEffect",
    "Track",
    "allocate",
    "assign_arms",
    "estimate_tone_effect",
    "evaluate_policies",
    "gain_planner",
    "oracle_planner",
    "plan_actions",
    "plan_collections",
    "rule_planner",
    "send_days",
    "simulate_collections",
    "simulate_policies",
    "to_contacts",
]
