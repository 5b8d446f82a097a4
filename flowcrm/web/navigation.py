"""What the layout and the home page show; each app adds its entry here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowcrm.accounts.models import User


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    section: str


NAVIGATION: list[NavItem] = [
    NavItem("Home", "/", "home"),
    NavItem("Contacts", "/contacts/", "contacts"),
    NavItem("Companies", "/contacts/companies/", "companies"),
    NavItem("Deals", "/deals/", "deals"),
    NavItem("My tasks", "/activities/tasks/", "tasks"),
    NavItem("Flows", "/flows/", "flows"),
    NavItem("Insights", "/insights/", "insights"),
    NavItem("Forecast", "/forecasts/", "forecasts"),
    NavItem("Reports", "/reports/", "reports"),
    NavItem("Import", "/imports/", "imports"),
]


def home_summary(user: User) -> dict[str, object]:
    return {"user": user}
