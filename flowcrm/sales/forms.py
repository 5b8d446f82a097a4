"""Page forms for deals. They parse input; services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms

from flowcrm.accounts.models import User
from flowcrm.core.errors import ValidationFailed
from flowcrm.sales.models import ForecastCategory, Pipeline, Stage


class DealFieldsForm(forms.Form):
    """The fields of a deal a person edits inline (not the stage: that is a move)."""

    title = forms.CharField(max_length=200)
    amount = forms.DecimalField(max_digits=14, decimal_places=2)
    currency = forms.CharField(max_length=3)
    expected_close_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("name", "email"), required=False
    )
    forecast_category = forms.ChoiceField(choices=ForecastCategory.choices)


class StageChoiceField(forms.ModelChoiceField[Stage]):
    def label_from_instance(self, obj: Stage) -> str:
        return f"{obj.pipeline.name} · {obj.name}"


class DealCreateForm(DealFieldsForm):
    pipeline = forms.ModelChoiceField(queryset=Pipeline.objects.order_by("position", "name"))
    stage = StageChoiceField(
        queryset=Stage.objects.select_related("pipeline").order_by(
            "pipeline__position", "position"
        ),
        required=False,
        help_text="Default: the pipeline's first stage.",
    )

    field_order = ["title", "pipeline", "stage", "amount", "currency", "expected_close_date"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].required = False  # default: the pipeline's currency


def add_service_errors(form: forms.Form, error: ValidationFailed) -> None:
    """Show a service's field errors on the form (``stage_id`` → ``stage``; others on top)."""
    for field, message in error.errors.items():
        name = field.removesuffix("_id")
        form.add_error(name if name in form.fields else None, message)
