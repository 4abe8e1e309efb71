"""Inception v3 against GluonCV's net."""
from gluon_googlenet import get_model
from gluon_googlenet.viz.summary import count_params

from conftest import gluoncv_param_count


def test_inception_v3_matches_gluoncv():
    assert count_params(get_model("inception_v3")) == gluoncv_param_count("inceptionv3", (1, 3, 299, 299))
