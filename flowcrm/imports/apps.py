from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "flowcrm.imports"
    label = "imports"
    verbose_name = "Imports and exports"

    def ready(self) -> None:
        from flowcrm.core.worker import register_worker_job
        from flowcrm.imports.tasks import run_queued_imports

        register_worker_job("imports", run_queued_imports)
