from __future__ import annotations

import datetime as dt

from flowcrm.forecasts.history import DealHistory, StageVisit
from flowcrm.forecasts.probabilities import deal_probability, learn

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
QUALIFY, PROPOSAL, WON_STAGE, LOST_STAGE = 1, 2, 3, 4


def closed_deal(deal_id: int, days_in_proposal: float, *, won: bool) -> tuple[DealHistory, bool]:
    start = NOW - dt.timedelta(days=200)
    entered_proposal = start + dt.timedelta(days=2)
    left = entered_proposal + dt.timedelta(days=days_in_proposal)
    history = DealHistory(
        deal_id=deal_id,
        visits=[
            StageVisit(QUALIFY, start, entered_proposal),
            StageVisit(PROPOSAL, entered_proposal, left),
            StageVisit(WON_STAGE if won else LOST_STAGE, left, None),
        ],
    )
    return history, won


def history_of_ten_deals() -> list[tuple[DealHistory, bool]]:
    # 4 won deals left Proposal after 1-4 days; 6 lost deals sat there 2-60 days.
    won = [closed_deal(i, days, won=True) for i, days in enumerate([1, 2, 3, 4])]
    lost = [closed_deal(10 + i, d, won=False) for i, d in enumerate([2, 5, 10, 30, 45, 60])]
    return won + lost


def test_learned_probability_is_the_share_of_deals_reaching_the_stage_that_were_won():
    learning = learn(
        stages=[(QUALIFY, "Qualify", 0.2), (PROPOSAL, "Proposal", 0.6)],
        closed=history_of_ten_deals(),
        now=NOW,
    )
    assert (learning[PROPOSAL].reached, learning[PROPOSAL].won) == (10, 4)
    assert learning[PROPOSAL].learned == 0.4
    assert learning[PROPOSAL].median_won_days == 2.5


def test_a_deal_idle_far_longer_than_won_deals_gets_a_lower_probability_with_a_reason():
    learning = learn(stages=[(PROPOSAL, "Proposal", 0.6)], closed=history_of_ten_deals(), now=NOW)
    # 30+ days in Proposal: 3 closed deals stayed that long, none was won.
    probability = deal_probability(learning[PROPOSAL], days_in_stage=30)
    assert probability.configured == 0.6
    assert probability.learned == 0.4
    assert probability.time_aware == (0 + 5 * 0.4) / (3 + 5)
    assert probability.explanation == (
        "30 days in Proposal; won deals left it after a median of 2 days. Of 3 closed deals "
        "that stayed at least this long, 0 were won, so 25% instead of 40%."
    )


def test_a_fresh_deal_keeps_the_learned_probability():
    learning = learn(stages=[(PROPOSAL, "Proposal", 0.6)], closed=history_of_ten_deals(), now=NOW)
    probability = deal_probability(learning[PROPOSAL], days_in_stage=0)
    # every closed deal stayed >= 0 days: (4 + 5 * 0.4) / (10 + 5) = 0.4 exactly
    assert probability.time_aware == 0.4


def test_a_stage_without_history_falls_back_to_the_configured_probability():
    learning = learn(stages=[(PROPOSAL, "Proposal", 0.6)], closed=[], now=NOW)
    probability = deal_probability(learning[PROPOSAL], days_in_stage=12)
    assert (probability.learned, probability.time_aware) == (0.6, 0.6)
    assert "No closed deals" in probability.explanation
