"""Node kinds: one base class (:class:`Node`) with a publish-time ``validate_node()`` and the
runtime hooks ``enter()``/``resume()``; :data:`NODE_KINDS` maps each ``kind`` to its model."""

from __future__ import annotations

from flowcrm.flows.core.nodes.action import ActionNode, retry_delay
from flowcrm.flows.core.nodes.base import NAME_PATTERN, NODE_ID_PATTERN, Node
from flowcrm.flows.core.nodes.delay import DelayConfig, DelayNode
from flowcrm.flows.core.nodes.logic import (
    BranchCase,
    BranchConfig,
    BranchNode,
    EndConfig,
    EndNode,
    SetConfig,
    SetNode,
)
from flowcrm.flows.core.nodes.waiting import (
    ApprovalConfig,
    ApprovalNode,
    Approvers,
    WaitEventConfig,
    WaitEventNode,
    approval_outcome,
    event_concerns_run,
)

NODE_KINDS: dict[str, type[Node]] = {
    model.node_kind: model
    for model in (
        ActionNode,
        BranchNode,
        DelayNode,
        WaitEventNode,
        ApprovalNode,
        SetNode,
        EndNode,
    )
}

__all__ = [
    "NAME_PATTERN",
    "NODE_ID_PATTERN",
    "NODE_KINDS",
    "ActionNode",
    "ApprovalConfig",
    "ApprovalNode",
    "Approvers",
    "BranchCase",
    "BranchConfig",
    "BranchNode",
    "DelayConfig",
    "DelayNode",
    "EndConfig",
    "EndNode",
    "Node",
    "SetConfig",
    "SetNode",
    "WaitEventConfig",
    "WaitEventNode",
    "approval_outcome",
    "event_concerns_run",
    "retry_delay",
]
