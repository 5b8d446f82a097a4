"""Nodes that decide and compute without waiting: branch, set, end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator

from flowcrm.flows.core.effects import Fail, Finish, NodeOutcome, Proceed
from flowcrm.flows.core.errors import EngineError, Path, PathError
from flowcrm.flows.core.language import (
    check_condition,
    check_expression,
    evaluate_condition,
    evaluate_expression,
)
from flowcrm.flows.core.nodes.base import NAME_PATTERN, NODE_ID_PATTERN, Node, Strict

if TYPE_CHECKING:
    from flowcrm.flows.core.effects import StepContext


class BranchCase(Strict):
    name: str = Field(pattern=NODE_ID_PATTERN)
    condition: dict[str, Any]


class BranchConfig(Strict):
    """Cases are tried in order; the first whose condition holds wins, else ``default``."""

    cases: list[BranchCase] = Field(min_length=1, max_length=50)

    @field_validator("cases")
    @classmethod
    def _unique_names(cls, cases: list[BranchCase]) -> list[BranchCase]:
        names = [c.name for c in cases]
        if "default" in names:
            raise ValueError("'default' is the fallback edge and cannot name a case")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate case names: {', '.join(duplicates)}")
        return cases


class BranchNode(Node):
    """If/else (one case) or a multi-way switch; ``default`` is taken when no case holds."""

    node_kind: ClassVar[str] = "branch"
    kind: Literal["branch"]
    config: BranchConfig

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset([c.name for c in self.config.cases] + ["default"])

    def required_labels(self) -> frozenset[str | None]:
        # the default edge has its own finding (branch_without_default)
        return frozenset(c.name for c in self.config.cases)

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        errors: list[PathError] = []
        for index, case in enumerate(self.config.cases):
            errors += check_condition(
                case.condition,
                record_type=record_type,
                path=(*path, "config", "cases", index, "condition"),
            )
        return errors

    def enter(self, ctx: StepContext) -> NodeOutcome:
        context = ctx.context()
        trace: list[dict[str, Any]] = []
        record_changes = (ctx.state.trigger or {}).get("changes")
        for case in self.config.cases:
            try:
                result, explanation = evaluate_condition(
                    case.condition,
                    ctx.record or {},
                    record_type=ctx.definition.record_type,
                    context=context,
                    changes=record_changes,
                )
            except (ValueError, TypeError, EngineError) as exc:
                trace.append({"case": case.name, "error": str(exc)})
                return Fail(f"case {case.name!r}: {exc}", detail={"cases": trace})
            trace.append({"case": case.name, "result": result, "explanation": explanation})
            if result:
                return Proceed(label=case.name, detail={"cases": trace, "chosen": case.name})
        return Proceed(label="default", detail={"cases": trace, "chosen": "default"})


class SetConfig(Strict):
    """Run variables computed with CEL, in order (later ones see earlier ones as ``vars.x``)."""

    values: dict[str, str] = Field(min_length=1, max_length=50)

    @field_validator("values")
    @classmethod
    def _names(cls, values: dict[str, str]) -> dict[str, str]:
        bad = [name for name in values if not NAME_PATTERN.match(name)]
        if bad:
            raise ValueError(f"variable names must be snake_case: {', '.join(bad)}")
        return values


class SetNode(Node):
    node_kind: ClassVar[str] = "set"
    kind: Literal["set"]
    config: SetConfig

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        errors: list[PathError] = []
        for name, source in self.config.values.items():
            errors += check_expression(source, (*path, "config", "values", name))
        return errors

    def enter(self, ctx: StepContext) -> NodeOutcome:
        computed: dict[str, Any] = {}
        for name, source in self.config.values.items():
            try:
                value = evaluate_expression(source, ctx.context())
            except (ValueError, TypeError, RuntimeError) as exc:
                return Fail(f"config.values.{name}: {exc}", detail={"values": computed})
            ctx.state.variables[name] = value
            computed[name] = value
        return Proceed(output=computed, detail={"values": computed})


class EndConfig(Strict):
    outcome: str = Field(default="completed", max_length=64)


class EndNode(Node):
    node_kind: ClassVar[str] = "end"
    kind: Literal["end"]
    config: EndConfig = Field(default_factory=EndConfig)

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset()

    def required_labels(self) -> frozenset[str | None]:
        return frozenset()

    def enter(self, ctx: StepContext) -> NodeOutcome:
        return Finish(self.config.outcome)
