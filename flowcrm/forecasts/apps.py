from django.apps import AppConfig


class ForecastsConfig(AppConfig):
    name = "flowcrm.forecasts"
    label = "forecasts"

    def ready(self) -> None:
        from flowcrm.core.worker import register_worker_job
        from flowcrm.forecasts.jobs import snapshot_periods

        register_worker_job("forecast-snapshots", snapshot_periods)
