"""The registry: facts of every model, names kept since saved files were made, unknown and duplicate names."""
import json
import os

from gluon_googlenet import get_model, get_spec, list_models, register_model
from gluon_googlenet.base.errors import ConfigError
from gluon_googlenet.viz.summary import count_params
from gluon_googlenet.viz.zoo import measure

import mxnet as mx
import pytest
from conftest import FIXTURES, ROOT


@pytest.mark.parametrize("name", list_models())
def test_registry_facts_are_the_built_nets(name):
    """The one check of every model's facts (parameters, mult-adds, smallest side): the
    registry's figures, which the zoo table and the README print, are what the nets have."""
    spec = get_spec(name)
    assert (spec.num_params, spec.mult_adds, spec.min_size) == measure(name)
    assert count_params(get_model(name)) == spec.num_params
    # the smallest side builds and runs; one pixel less does not
    channels = spec.input_size[0]
    small = get_model(name, input_size=spec.min_size)
    small.initialize()
    assert small(mx.nd.zeros((1, channels, spec.min_size, spec.min_size))).shape == (1, spec.num_classes)
    if spec.min_size > 1:
        with pytest.raises(ValueError):
            tiny = get_model(name, input_size=spec.min_size - 1)
            tiny.initialize()
            tiny(mx.nd.zeros((1, channels, spec.min_size - 1, spec.min_size - 1)))


def test_get_model_unknown_name_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="googlenet_d2l"):
        get_model("googlenet_v9")


def test_registry_refuses_duplicates():
    with pytest.raises(ValueError, match="registered already"):
        register_model("googlenet_d2l", (1, 96, 96), 10, "dup")(lambda **kw: None)


# Published parameter counts, each from its source: the one place the tests write them down.
PUBLISHED = [  # (model, build options, trainable parameters, where the figure comes from)
    ("googlenet_d2l", {}, 5_977_530, "d2l section 7.4"),
    ("googlenet", {"k3": 3}, 6_624_904, "GluonCV googlenet / torchvision"),
    ("googlenet_bn", {"num_classes": 4}, 7_041_172, "the layer summary of googlenet_bn's source"),
    ("inception_v3", {}, 23_834_568, "GluonCV inceptionv3"),
    ("inception_v4", {}, 42_679_816, "timm inception_v4"),
    ("inception_resnet_v2", {}, 55_843_464, "timm inception_resnet_v2"),
    ("mnist_inception", {}, 97_298, "Liu's course"),
    ("mnist_resnet", {}, 14_570, "Liu's course"),
]


@pytest.mark.parametrize("name, options, count, source", PUBLISHED)
def test_published_parameter_counts(name, options, count, source):
    assert count_params(get_model(name, **options)) == count, source
    if not options:
        assert get_spec(name).num_params == count, "the registry holds the published figure"


def _frozen_names():
    """Every model's names record: v1's file, then the files of models added later."""
    names = {}
    for file_name in sorted(f for f in os.listdir(FIXTURES) if f.startswith("param_names-")):
        with open(os.path.join(FIXTURES, file_name), encoding="utf-8") as handle:
            for model, record in json.load(handle).items():
                names.setdefault(model, record)
    return names


NAMES = _frozen_names()


def _make_param_names():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_param_names", os.path.join(ROOT, "scripts",
                                                                                   "make_param_names.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(NAMES))
def test_parameter_names_are_those_saved_files_use(name):
    """Full names (exported .params) and structural names (checkpoints) of every model, as 1.0 saves
    them: files saved then still load. scripts/make_param_names.py wrote the fixture and makes
    today's record."""
    script = _make_param_names()
    assert set(NAMES) == set(list_models()) | set(script.ROWS)
    assert script.names_record(name) == NAMES[name]


