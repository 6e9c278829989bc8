"""babysit.torch.sanity_check on the set-ups a new user gets wrong (issue 35's table): each is a
finding that names the real cause with its fix, never a traceback, and a failure that follows
from an earlier cause says so instead of guessing one; the caller's model is left unchanged."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from babysit.torch import sanity_check  # noqa: E402
from babysit.torch.sanity import FAIL, PASS, SKIP, WARN  # noqa: E402

N, D, C = 200, 20, 10


def data() -> tuple[Any, Any, Any]:
    """Separable 10-class data (the class is the argmax of a fixed linear map) and the map."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(N, D, generator=gen)
    w = torch.randn(D, C, generator=gen)
    return x, (x @ w).argmax(1), w


def mlp(out: int = C, last: Any = None, bn: bool = False) -> Any:
    torch.manual_seed(0)
    layers = [nn.Linear(D, 64), *([nn.BatchNorm1d(64)] if bn else []), nn.ReLU(), nn.Linear(64, out)]
    return nn.Sequential(*layers, *([last] if last is not None else []))


def deep(act: Callable[[], Any], std: float, depth: int, width: int) -> Any:
    """The lecture's deep net with every weight drawn at one std (too small for the depth)."""
    torch.manual_seed(0)
    layers: list[Any] = []
    d = D
    for _ in range(depth):
        layer = nn.Linear(d, width)
        nn.init.normal_(layer.weight, std=std)
        nn.init.zeros_(layer.bias)
        layers += [layer, act()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, C))


def run(model: Any, loss_fn: Any, x: Any, y: Any, **kw: Any) -> Any:
    """The report, with the caller's model checked to be exactly as it was."""
    before = copy.deepcopy(model.state_dict())
    report = sanity_check(model, loss_fn, x, y, **kw)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    return report


CE = nn.CrossEntropyLoss()
X, Y, W = data()

SETUP_ERRORS = {  # case: (model, loss, inputs, labels, extra arguments, words in the message, in the advice)
    "labels 1..10 with a 10-wide output": (mlp(), CE, X, Y + 1, {}, "look 1-based", "y - 1"),
    "a 5-wide output for 10 classes": (mlp(5), CE, X, Y, {}, "outputs 5 scores", "10 outputs"),
    "batch norm with a batch of one": (mlp(bn=True), CE, X[:1], Y[:1], {}, "single example",
                                       "at least 2 examples"),
    "int64 inputs": (mlp(), CE, (X * 10).long(), Y, {}, "torch.int64", "X.float()"),
    "an empty data set": (mlp(), CE, X[:0], Y[:0], {}, "no examples", "with examples"),
    "num_classes=5 with labels up to 9": (mlp(), CE, X, Y, {"num_classes": 5},
                                          "num_classes=5 but the labels go up to 9", "num_classes=10"),
    "as many labels as inputs": (mlp(), CE, X, Y[:150], {}, "200 examples and y 150", "one label"),
    "a loss that is not one number": (mlp(), nn.CrossEntropyLoss(reduction="none"), X, Y, {},
                                      "not one number", ".mean()"),
    "inputs the first layer cannot take": (mlp(), CE, X[:, :7], Y, {}, "cannot take the inputs",
                                           "in_features=7"),
    "strings for data": (mlp(), CE, [["a"] * D] * 4, [0, 1, 2, 3], {}, "cannot be read", "tensors"),
}


@pytest.mark.parametrize("case", list(SETUP_ERRORS))
def test_a_set_up_error_is_a_finding_with_its_fix_and_nothing_else_runs(case: str) -> None:
    model, loss_fn, x, y, kw, said, fix = SETUP_ERRORS[case]
    report = run(model, loss_fn, x, y, **kw)
    setup = report["set-up"]
    assert setup.status == FAIL and said in setup.message and fix in setup.advice, str(report)
    assert all(c.status == SKIP for c in report.checks[1:])
    assert not report.passed
    assert len(str(report).splitlines()) == 3  # the error, one line for the checks not run, the verdict


def test_labels_1_to_10_with_an_11_wide_output_are_called_1_based() -> None:
    report = run(mlp(11), CE, X, Y + 1)
    assert report["set-up"].status == WARN and "class 0 never appears" in report["set-up"].message
    assert "y - 1" in report["set-up"].advice


def test_labels_with_every_class_present_are_no_warning() -> None:
    assert run(mlp(), CE, X, Y)["set-up"].status == PASS


def test_a_relu_before_the_logits_is_named_and_the_overfit_failure_follows_from_it() -> None:
    report = run(mlp(last=nn.ReLU()), CE, X, Y)
    init = report["loss at init"]
    assert init.status == FAIL and "pass through a ReLU" in init.message
    assert "Drop the activation after the last layer" in init.advice
    overfit = report["overfit small subset"]
    assert overfit.status == FAIL and overfit.follows == "loss at init"
    assert "learning rate" not in overfit.message + overfit.advice  # the old wrong cause
    assert "start with loss at init" in str(report).splitlines()[-1]


def test_a_relu_inside_the_model_is_not_a_relu_before_the_logits() -> None:
    assert run(mlp(), CE, X, Y)["loss at init"].status == PASS


def test_a_regression_is_judged_by_its_loss_not_an_accuracy() -> None:
    target = X @ W[:, :1]
    report = run(mlp(1), nn.MSELoss(), X, target)
    assert "a regression" in report["set-up"].message
    overfit = report["overfit small subset"]
    assert overfit.status == PASS and "accuracy" not in overfit.message, str(report)
    assert report.passed


def test_a_regression_that_cannot_fit_fails_its_overfit_check() -> None:
    """Near miss: the targets are noise the width-1 bottleneck cannot memorize in 300 steps."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(D, 1), nn.ReLU(), nn.Linear(1, 1))  # one hidden unit
    target = torch.randn(N, 1, generator=torch.Generator().manual_seed(3)) * 5
    report = run(model, nn.MSELoss(), X, target)
    assert report["overfit small subset"].status == FAIL, str(report)


def test_a_summed_loss_is_read_per_example_not_called_a_bad_init() -> None:
    report = run(mlp(), nn.CrossEntropyLoss(reduction="sum"), X, Y)
    assert report["set-up"].status == WARN and "reduction='sum'" in report["set-up"].message
    assert report["loss at init"].status == PASS, str(report)  # 2.3 per example, not 466
    assert report["overfit small subset"].status == PASS, str(report)


def test_inputs_that_do_not_vary_are_the_cause_and_the_rest_follows() -> None:
    report = run(mlp(), CE, X[:1].repeat(N, 1), Y)
    assert report["data"].status == FAIL and "every input is the same" in report["data"].message
    assert "Standardize" not in report["data"].advice
    for name in ("overfit small subset", "input-independent baseline"):
        assert report[name].status in (FAIL, WARN) and report[name].follows == "data", str(report)
    assert report.first_cause is report["data"]


@pytest.mark.parametrize("model", [deep(nn.ReLU, 0.01, 10, 200), deep(nn.Tanh, 0.01, 8, 100)],
                         ids=["10x200 relu at 0.01", "8x100 tanh at 0.01"])
def test_a_bad_init_explains_what_fails_after_it(model: Any) -> None:
    report = run(model, CE, X, Y)
    assert report["init scale"].status == WARN and "collapses" in report["init scale"].message
    assert report.first_cause is report["init scale"]
    trained = ("overfit small subset", "learning-rate probe", "input-independent baseline",
               "labels follow inputs")
    later = [report[name] for name in trained if report[name].status in (FAIL, WARN)]
    assert later and all(c.follows == "init scale" for c in later), str(report)
    text = str(report)
    for wrong in ("likely a bug", "does not use its input", "Raise it"):
        assert wrong not in text


def test_layers_are_named_with_their_kind() -> None:
    report = run(deep(nn.ReLU, 0.01, 10, 200), CE, X, Y)
    assert "0 (Linear)" in report["init scale"].message


def test_without_an_optimizer_the_probe_says_where_to_start_not_that_a_rate_is_inside() -> None:
    probe = run(mlp(), CE, X, Y)["learning-rate probe"]
    assert "no optimizer given" in probe.message and "your lr" not in probe.message
    given = run(mlp(), CE, X, Y, optimizer=lambda p: torch.optim.Adam(p, 1e-3))["learning-rate probe"]
    assert "your lr 0.001" in given.message


def test_a_model_that_cannot_train_is_said_once_not_a_traceback() -> None:
    class BreaksInBackward(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(D, C)

        def forward(self, x: Any) -> Any:
            out = self.fc(x)
            if torch.is_grad_enabled():  # training breaks; a forward without gradients does not
                out = out + torch.zeros(3)
            return out

    report = run(BreaksInBackward(), CE, X, Y)
    assert not report.passed
    assert "could not run" in report["learning-rate probe"].message, str(report)


class Square(torch.autograd.Function):
    """x^2 with a backward of its own: right (2x) or planted wrong (x)."""

    wrong = False

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad * (x if Square.wrong else 2 * x)


class SquareNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc1, self.out = nn.Linear(D, 32), nn.Linear(32, C)

    def forward(self, x: Any) -> Any:
        return self.out(Square.apply(self.fc1(x)))


@pytest.mark.parametrize("wrong", [True, False], ids=["wrong backward", "right backward"])
def test_the_gradient_check_finds_a_custom_backward_that_is_wrong(wrong: bool,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Square, "wrong", wrong)
    report = run(SquareNet(), CE, X, Y)
    check = report["gradient check"]
    assert check.status == (FAIL if wrong else PASS), str(report)
    assert "float64" in check.message and " s" in check.message  # its cost is said
    if wrong:
        assert "fc1" in check.message and report.first_cause is check


def test_the_gradient_check_leaves_out_entries_at_a_relu_kink() -> None:
    """Near miss: a deep ReLU net under a tiny init has pre-activations far inside the step h,
    so the centred difference crosses kinks; that is no wrong backward."""
    check = run(deep(nn.ReLU, 0.01, 10, 200), CE, X, Y)["gradient check"]
    assert check.status == PASS and check.numbers["at_kinks"] > 0, check
