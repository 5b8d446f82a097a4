"""Template helpers of the deal pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template

from flowcrm.sales.models import Deal
from flowcrm.sales.selectors import is_rotting

register = template.Library()


@register.filter
def rotting(deal: Deal, now: dt.datetime) -> bool:
    """``{% if deal|rotting:now %}``: the deal idles longer than its stage allows."""
    return is_rotting(deal, now=now)


@register.filter
def days_since(moment: dt.datetime, now: dt.datetime) -> int:
    return (now - moment).days


@register.filter
def money(amount: Decimal | int | None, currency: str = "") -> str:
    """``12,345`` (whole units, thousands separated) followed by the currency code."""
    value = f"{Decimal(amount or 0):,.0f}"
    return f"{value} {currency}".strip()


@register.filter
def duration(delta: dt.timedelta) -> str:
    """A short human duration: ``3d 4h``, ``5h 10m``, ``12m``."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"
