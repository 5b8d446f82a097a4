from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from flowcrm.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("contacts/", include("flowcrm.contacts.urls")),
    path("deals/", include("flowcrm.sales.urls")),
    path("activities/", include("flowcrm.activities.urls")),
    path("flows/", include("flowcrm.flows.urls")),
    path("insights/", include("flowcrm.insights.urls")),
    path("imports/", include("flowcrm.imports.urls")),
    path("forecasts/", include("flowcrm.forecasts.urls")),
    path("reports/", include("flowcrm.reports.urls")),
    path("", include("flowcrm.web.urls")),
]
