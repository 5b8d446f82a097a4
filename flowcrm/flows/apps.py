from __future__ import annotations

from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flowcrm.flows"
    label = "flows"

    def ready(self) -> None:
        from flowcrm.core.events import subscribe
        from flowcrm.core.worker import register_worker_job
        from flowcrm.flows.engine import worker_job
        from flowcrm.flows.enrollment import on_events
        from flowcrm.flows.languages import install_languages
        from flowcrm.flows.registry import register_actions

        install_languages()
        register_actions()
        install_languages()
        subscribe(on_events)
        register_worker_job("flows", worker_job)
