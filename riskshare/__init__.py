"""riskshare: simulate multi-layer risk sharing for technology insurance.

Everything the command line prints comes from these functions::

    import riskshare
    scenario = riskshare.load_scenario("scenarios/breakthrough-consortium.yaml")
    result = riskshare.simulate(scenario, years=50_000, seed=1)
    result.to_dict()["parties"]["maker"]["mean"]
"""

from riskshare._version import __version__
from riskshare.engine.series import SeriesKey
from riskshare.errors import Problem, RiskshareError, RunError, ScenarioError
from riskshare.loading.load import load_scenario, validate_file
from riskshare.model.scenario import Scenario
from riskshare.runs.compare import ComparisonError, ComparisonResult, compare
from riskshare.runs.explain import ExplainResult, explain
from riskshare.runs.results import (
    LayerFigures,
    MemberFigures,
    PartyFigures,
    SeriesFigures,
    TotalFigures,
)
from riskshare.runs.simulation import SimulationResult, simulate
from riskshare.runs.sweep import GridError, KeyFigures, SweepPoint, SweepResult, sweep

__all__ = [
    "ComparisonError",
    "ComparisonResult",
    "ExplainResult",
    "GridError",
    "KeyFigures",
    "LayerFigures",
    "MemberFigures",
    "PartyFigures",
    "Problem",
    "RiskshareError",
    "RunError",
    "Scenario",
    "ScenarioError",
    "SeriesFigures",
    "SeriesKey",
    "SimulationResult",
    "SweepPoint",
    "SweepResult",
    "TotalFigures",
    "__version__",
    "compare",
    "explain",
    "load_scenario",
    "simulate",
    "sweep",
    "validate_file",
]
