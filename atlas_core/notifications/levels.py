"""Alert severities (the embed colour) and the Discord channels an alert can go to: defined in
:mod:`atlas_core.alerts_model` (the store uses them too), named here for the notifiers."""

from atlas_core.alerts_model import SEVERITY, AlertChannel, AlertLevel

__all__ = ["SEVERITY", "AlertChannel", "AlertLevel"]
