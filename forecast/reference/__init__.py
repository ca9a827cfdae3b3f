"""The pooled reference-class model of peaceful settlement of territorial, river and maritime claims
(issue 11): a discrete-time hierarchical hazard fitted with nutpie on the ICOW claim-years.

Competing endings (dropped, conquest, other) are censoring: a claim so ended leaves the risk set and
its last row has y = 0. See ``model.py`` for the model and priors, ``fit.py``, ``predict.py``,
``store.py`` and ``claim_terms.py`` for the interface (fit_reference, predict_settlement, claim_survival,
save_reference_fit/load_reference_fit, claim_terms). Importing this package does not import PyMC.
"""

from forecast.reference.fit import (ReferenceDiagnostics, ReferenceFit, ReferenceIdentity, TrainingSummary,
                                    fit_reference)
from forecast.reference.claim_terms import ClaimTerms, SettlementEvidence, claim_terms
from forecast.reference.predict import claim_survival, predict_settlement
from forecast.reference.store import load_reference_fit, save_reference_fit

__all__ = ["ClaimTerms", "ReferenceDiagnostics", "ReferenceFit", "ReferenceIdentity", "SettlementEvidence",
           "TrainingSummary", "claim_survival", "fit_reference", "claim_terms", "load_reference_fit",
           "predict_settlement", "save_reference_fit"]
