"""The demo flows publish cleanly and do what they say on real records."""

from __future__ import annotations

import pytest

from flowcrm.flows.demo import install_demo_flows
from flowcrm.flows.engine import process_due_runs
from flowcrm.flows.models import Flow, FlowRun, FlowStatus
from flowcrm.flows.tests.runtime_helpers import ADMIN, new_contact

pytestmark = pytest.mark.django_db


def test_the_demo_flows_install_once_and_route_a_hot_lead(make_user):
    rep = make_user()

    flows = install_demo_flows(ADMIN)
    again = install_demo_flows(ADMIN)

    assert [f.pk for f in flows] == [f.pk for f in again]
    assert Flow.objects.filter(status=FlowStatus.ACTIVE).count() == 6
    lead = new_contact(first_name="Ada", email="ada@example.com", score=75, country="AT")
    process_due_runs()
    lead.refresh_from_db()
    assert (lead.owner_id, lead.lead_status) == (rep.pk, "qualified")
    assert (
        FlowRun.objects.get(record_id=lead.pk, flow__name="Route new inbound leads").status
        == "completed"
    )
