"""One table of activations and one check of a network's settings, used by every part."""

from __future__ import annotations

import pytest

from microgrid.app.cli import build_parser
from microgrid.digits.fast_kernels import DERIVATIVE, FORWARD
from microgrid.digits.train import CHOICES, TrainConfig
from microgrid.init import ACTIVATIONS, INITS


def test_every_part_names_the_engines_activations():
    assert tuple(FORWARD) == tuple(DERIVATIVE) == ACTIVATIONS
    assert CHOICES["activation"] == CHOICES["output_activation"] == ACTIVATIONS and CHOICES["init"] == INITS
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    options = {a.dest: a.choices for a in train._actions}
    assert tuple(options["activation"]) == tuple(options["output_activation"]) == ACTIVATIONS
    assert tuple(options["init"]) == INITS


@pytest.mark.parametrize(
    "field, value",
    [("activation", "swish"), ("output_activation", "softmax"), ("init", "xavier"), ("loss", "hinge"),
     ("optimizer", "lbfgs"), ("dtype", "float16"), ("engine", "gpu")],
)  # fmt: skip
def test_the_training_config_is_the_one_check_of_the_names(field, value):
    with pytest.raises(ValueError) as caught:
        TrainConfig(**{field: value}).check()
    assert str(caught.value) == f"{field} must be one of {', '.join(CHOICES[field])}, got {value!r}"


def test_the_page_refuses_with_the_same_line():
    pytest.importorskip("starlette")
    from microgrid.app.web.training_config import ConfigError, parse_config

    with pytest.raises(ConfigError) as caught:
        parse_config({"activation": "swish"})
    assert caught.value.status == 422
    assert str(caught.value) == "activation must be one of sigmoid, relu, tanh, linear, got 'swish'"
