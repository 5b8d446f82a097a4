"""REST endpoints of the sales app (mounted by flowcrm.api): pipelines, stages, deals.

Endpoints parse, authorise, call one service or selector. Deals are visible by owner
(``core.permissions``); pipeline and stage changes are for admins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from flowcrm.contacts.models import Company, Contact
from flowcrm.core.permissions import ensure_admin, ensure_can_write
from flowcrm.sales import selectors, services
from flowcrm.sales.schemas import (
    DealContactIn,
    DealIn,
    DealMoveIn,
    DealOut,
    DealPage,
    DealPatch,
    DealQuery,
    PipelineIn,
    PipelineOut,
    PipelinePatch,
    StageIn,
    StageOrderIn,
    StageOut,
    StagePatch,
    StageVisitOut,
)

if TYPE_CHECKING:
    from flowcrm.accounts.models import User
    from flowcrm.core.actors import Actor
    from flowcrm.sales.models import Deal, Pipeline, Stage

router = Router(tags=["sales"])


def _caller(request: HttpRequest) -> tuple[User, Actor]:
    from flowcrm.api import request_actor, request_user

    return request_user(request), request_actor(request)


def _writer(request: HttpRequest) -> tuple[User, Actor]:
    user, actor = _caller(request)
    ensure_can_write(user)
    return user, actor


def _admin(request: HttpRequest) -> Actor:
    user, actor = _caller(request)
    ensure_admin(user)
    return actor


# -- pipelines and stages ---------------------------------------------------------------------


@router.get("/pipelines", response=list[PipelineOut], summary="Pipelines with their stages")
def pipeline_list(request: HttpRequest) -> list[Pipeline]:
    return selectors.pipelines_with_stages()


@router.post("/pipelines", response={201: PipelineOut}, summary="Create a pipeline (admin)")
def pipeline_create(request: HttpRequest, payload: PipelineIn) -> Status[Pipeline]:
    actor = _admin(request)
    pipeline = services.pipeline_create(
        name=payload.name,
        currency=payload.currency,
        is_default=payload.is_default,
        stages=[services.StageSpec(**stage.model_dump()) for stage in payload.stages],
        actor=actor,
    )
    return Status(201, pipeline)


@router.get("/pipelines/{pipeline_id}", response=PipelineOut)
def pipeline_detail(request: HttpRequest, pipeline_id: int) -> Pipeline:
    return selectors.pipeline_get(pipeline_id)


@router.patch("/pipelines/{pipeline_id}", response=PipelineOut, summary="Change a pipeline (admin)")
def pipeline_update(request: HttpRequest, pipeline_id: int, payload: PipelinePatch) -> Pipeline:
    actor = _admin(request)
    pipeline = selectors.pipeline_get(pipeline_id)
    return services.pipeline_update(
        pipeline=pipeline, data=payload.model_dump(exclude_unset=True), actor=actor
    )


@router.get("/pipelines/{pipeline_id}/stages", response=list[StageOut])
def pipeline_stages(request: HttpRequest, pipeline_id: int) -> list[Stage]:
    return list(selectors.pipeline_get(pipeline_id).stages.order_by("position", "id"))


@router.post(
    "/pipelines/{pipeline_id}/stages", response={201: StageOut}, summary="Add a stage (admin)"
)
def stage_create(request: HttpRequest, pipeline_id: int, payload: StageIn) -> Status[Stage]:
    actor = _admin(request)
    pipeline = selectors.pipeline_get(pipeline_id)
    return Status(
        201, services.stage_create(pipeline=pipeline, actor=actor, **payload.model_dump())
    )


@router.post(
    "/pipelines/{pipeline_id}/stages/reorder",
    response=list[StageOut],
    summary="Reorder a pipeline's stages (admin)",
)
def stage_reorder(request: HttpRequest, pipeline_id: int, payload: StageOrderIn) -> list[Stage]:
    actor = _admin(request)
    pipeline = selectors.pipeline_get(pipeline_id)
    return services.stage_reorder(pipeline=pipeline, stage_ids=payload.stage_ids, actor=actor)


@router.get("/stages/{stage_id}", response=StageOut)
def stage_detail(request: HttpRequest, stage_id: int) -> Stage:
    return selectors.stage_get(stage_id)


@router.patch("/stages/{stage_id}", response=StageOut, summary="Change a stage (admin)")
def stage_update(request: HttpRequest, stage_id: int, payload: StagePatch) -> Stage:
    actor = _admin(request)
    stage = selectors.stage_get(stage_id)
    return services.stage_update(
        stage=stage, data=payload.model_dump(exclude_unset=True), actor=actor
    )


# -- deals ------------------------------------------------------------------------------------


@router.get("/deals", response=DealPage, summary="Deals (filters, sort, cursor pagination)")
def deal_list(request: HttpRequest, query: Query[DealQuery]) -> dict[str, Any]:
    user, _actor = _caller(request)
    # Custom field filters arrive as ``custom.<key>=value`` (or ``custom.<key>__gte=``).
    custom = {
        key.removeprefix("custom."): value
        for key, value in request.GET.items()
        if key.startswith("custom.")
    }
    filters = selectors.DealFilters(
        **query.model_dump(exclude={"sort", "cursor", "limit"}), custom=custom
    )
    page = selectors.deal_list(
        user, filters, sort=query.sort, cursor=query.cursor, limit=query.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


def _deal_links(user: User, company_id: int | None, contact_ids: list[int]) -> dict[str, Any]:
    company = (
        selectors.visible_or_invalid(Company.objects.all(), user, company_id, field="company_id")
        if company_id is not None
        else None
    )
    contacts = [
        selectors.visible_or_invalid(
            Contact.objects.all(), user, contact_id, field=f"contact_ids.{index}"
        )
        for index, contact_id in enumerate(contact_ids)
    ]
    return {"company": company, "contacts": contacts}


@router.post("/deals", response={201: DealOut}, summary="Create a deal")
def deal_create(request: HttpRequest, payload: DealIn) -> Status[Deal]:
    user, actor = _writer(request)
    stage = selectors.stage_for_input(payload.stage_id) if payload.stage_id is not None else None
    if payload.pipeline_id is not None:
        pipeline = selectors.pipeline_for_input(payload.pipeline_id)
    elif stage is not None:
        pipeline = stage.pipeline
    else:
        pipeline = selectors.default_pipeline_for_input()
    owner = (
        selectors.active_user_for_input(payload.owner_id, field="owner_id")
        if payload.owner_id is not None
        else user
    )
    deal = services.deal_create(
        title=payload.title,
        pipeline=pipeline,
        stage=stage,
        amount=payload.amount,
        currency=payload.currency,
        expected_close_date=payload.expected_close_date,
        owner=owner,
        forecast_category=payload.forecast_category,
        custom=payload.custom,
        external_id=payload.external_id,
        actor=actor,
        **_deal_links(user, payload.company_id, payload.contact_ids),
    )
    return Status(201, selectors.deal_get(user, deal.pk))


@router.get("/deals/{deal_id}", response=DealOut)
def deal_detail(request: HttpRequest, deal_id: int) -> Deal:
    user, _actor = _caller(request)
    return selectors.deal_get(user, deal_id)


@router.patch("/deals/{deal_id}", response=DealOut, summary="Change a deal (not its stage)")
def deal_update(request: HttpRequest, deal_id: int, payload: DealPatch) -> Deal:
    user, actor = _writer(request)
    deal = selectors.deal_get(user, deal_id)
    data = payload.model_dump(exclude_unset=True)
    if "stage_id" in data:
        data["stage"] = data.pop("stage_id")  # the service explains where stage changes go
    if "owner_id" in data:
        owner_id = data.pop("owner_id")
        data["owner"] = (
            selectors.active_user_for_input(owner_id, field="owner_id") if owner_id else None
        )
    if "company_id" in data:
        company_id = data.pop("company_id")
        data["company"] = _deal_links(user, company_id, [])["company"]
    services.deal_update(deal=deal, data=data, actor=actor)
    return selectors.deal_get(user, deal_id)


@router.delete("/deals/{deal_id}", response={204: None}, summary="Delete a deal")
def deal_delete(request: HttpRequest, deal_id: int) -> Status[None]:
    user, actor = _writer(request)
    services.deal_delete(deal=selectors.deal_get(user, deal_id), actor=actor)
    return Status(204, None)


@router.post("/deals/{deal_id}/move", response=DealOut, summary="Move a deal to another stage")
def deal_move(request: HttpRequest, deal_id: int, payload: DealMoveIn) -> Deal:
    user, actor = _writer(request)
    deal = selectors.deal_get(user, deal_id)
    stage = selectors.stage_for_input(payload.stage_id)
    services.deal_move_stage(deal=deal, stage=stage, lost_reason=payload.lost_reason, actor=actor)
    return selectors.deal_get(user, deal_id)


@router.get("/deals/{deal_id}/stage-history", response=list[StageVisitOut])
def deal_stage_history(request: HttpRequest, deal_id: int) -> list[dict[str, Any]]:
    user, _actor = _caller(request)
    visits = selectors.deal_stage_history(selectors.deal_get(user, deal_id))
    return [
        {**visit.__dict__, "duration_seconds": int(visit.duration.total_seconds())}
        for visit in visits
    ]


@router.post("/deals/{deal_id}/contacts", response=DealOut, summary="Link a contact")
def deal_contact_link(request: HttpRequest, deal_id: int, payload: DealContactIn) -> Deal:
    user, actor = _writer(request)
    deal = selectors.deal_get(user, deal_id)
    contact = selectors.visible_or_invalid(
        Contact.objects.all(), user, payload.contact_id, field="contact_id"
    )
    services.deal_contact_link(deal=deal, contact=contact, actor=actor)
    return selectors.deal_get(user, deal_id)


@router.delete(
    "/deals/{deal_id}/contacts/{contact_id}", response=DealOut, summary="Unlink a contact"
)
def deal_contact_unlink(request: HttpRequest, deal_id: int, contact_id: int) -> Deal:
    user, actor = _writer(request)
    deal = selectors.deal_get(user, deal_id)
    contact = selectors.visible_or_invalid(
        Contact.objects.all(), user, contact_id, field="contact_id"
    )
    services.deal_contact_unlink(deal=deal, contact=contact, actor=actor)
    return selectors.deal_get(user, deal_id)
