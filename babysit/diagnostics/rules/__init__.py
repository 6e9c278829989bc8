"""The rule catalogue. Adding a rule: one module here, one entry in ALL_RULES, its tests."""

from babysit.diagnostics.rule import Rule
from babysit.diagnostics.rules.amp import AmpScaleCollapse, AmpSkippedSteps, ClippingAlways
from babysit.diagnostics.rules.dead_relu import DeadReLU
from babysit.diagnostics.rules.eval_in_train_mode import EvalInTrainMode
from babysit.diagnostics.rules.eval_mode import EvalMode
from babysit.diagnostics.rules.gradients import ExplodingGradients, VanishingGradients
from babysit.diagnostics.rules.input_not_centered import InputNotCentered
from babysit.diagnostics.rules.input_not_scaled import InputNotScaled
from babysit.diagnostics.rules.loss_at_init import LossAtInit
from babysit.diagnostics.rules.loss_explosion import LossExplosion
from babysit.diagnostics.rules.loss_flat import LossFlat
from babysit.diagnostics.rules.loss_nan import LossNaN
from babysit.diagnostics.rules.loss_oscillation import LossOscillation
from babysit.diagnostics.rules.loss_unbounded import LossUnbounded
from babysit.diagnostics.rules.lr_decay import LrDecayTooFast
from babysit.diagnostics.rules.not_learning import NotLearning
from babysit.diagnostics.rules.overfitting import Overfitting
from babysit.diagnostics.rules.plateau_then_drop import PlateauThenDrop
from babysit.diagnostics.rules.ranks import RankDesync, RankNonfinite
from babysit.diagnostics.rules.reg_dominant import RegDominant
from babysit.diagnostics.rules.saturated import SaturatedActivations
from babysit.diagnostics.rules.sigmoid_hidden import SigmoidHidden
from babysit.diagnostics.rules.symmetric_init import SymmetricInit
from babysit.diagnostics.rules.training_unstable import TrainingUnstable
from babysit.diagnostics.rules.underfitting import Underfitting
from babysit.diagnostics.rules.update_ratio import UpdateRatioHigh, UpdateRatioLow
from babysit.diagnostics.rules.val_at_chance import ValAtChance
from babysit.diagnostics.rules.val_plateau import ValPlateau
from babysit.diagnostics.rules.vanishing_activations import VanishingActivations

ALL_RULES: tuple[type[Rule], ...] = (
    LossAtInit, LossNaN, LossExplosion, LossFlat, PlateauThenDrop, LossOscillation,
    TrainingUnstable, Overfitting, Underfitting, ValPlateau, UpdateRatioHigh, UpdateRatioLow, DeadReLU,
    SaturatedActivations, SymmetricInit, VanishingActivations, VanishingGradients,
    ExplodingGradients, InputNotCentered, InputNotScaled, SigmoidHidden, RankNonfinite, RankDesync,
    AmpScaleCollapse, AmpSkippedSteps, ClippingAlways, RegDominant, EvalMode, EvalInTrainMode, ValAtChance,
    NotLearning, LossUnbounded, LrDecayTooFast,
)
RULES_BY_ID: dict[str, type[Rule]] = {rule.id: rule for rule in ALL_RULES}


def provisional(rule_id: str) -> bool:
    """Whether the rule's findings may be withdrawn by later records (docs/findings.md)."""
    rule = RULES_BY_ID.get(rule_id)
    return rule is not None and rule.provisional
