"""The smoke subset (``-m smoke``), run on every Python of 3.9-3.12 against the installed wheel
(scripts/interpreters.sh): import and the console command, every registered model forward at its
smallest input in both array modes, a few training steps, export and load back with plain MXNet;
with ``data fetch`` (tests/training/test_fetch.py). About a minute."""
import contextlib
import os
import subprocess
import sys

from gluon_googlenet import TrainConfig, get_model, get_spec, list_models, train
from gluon_googlenet.weights.export import export_model

import mxnet as mx
import numpy as onp
import pytest
from conftest import make_idx_dir
from mxnet import np, npx

pytestmark = pytest.mark.smoke


@contextlib.contextmanager
def numpy_mode():
    npx.set_np()
    try:
        yield
    finally:
        npx.reset_np()


def test_the_package_imports_and_answers_on_the_command_line():
    import gluon_googlenet
    assert gluon_googlenet.__version__
    console = os.path.join(os.path.dirname(sys.executable), "gluon-googlenet")  # the installed entry point
    usage = subprocess.run([console, "--help"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 0 and "shapes" in usage.stdout and "train" in usage.stdout
    out = subprocess.run([sys.executable, "-m", "gluon_googlenet", "shapes"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["(1,", "10)"]


@pytest.mark.slow  # in the fast subset, tests/nn/test_array_modes.py's small cases stand for it
@pytest.mark.parametrize("name", list_models())
def test_every_model_runs_in_both_array_modes(name, tmp_path):
    spec = get_spec(name)
    side = spec.input_size[1] if name.startswith("mnist") else spec.min_size
    x = onp.random.RandomState(0).uniform(size=(1, spec.input_size[0], side, side)).astype("float32")
    net = get_model(name)
    net.initialize(mx.init.Xavier())
    expected = net(mx.nd.array(x)).asnumpy()
    net.save_parameters(str(tmp_path / "p"))
    with numpy_mode():
        again = get_model(name)
        again.load_parameters(str(tmp_path / "p"))
        out = again(np.array(x))
    assert isinstance(out, np.ndarray) and out.shape == (1, spec.num_classes)
    onp.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-5, atol=1e-6)


def test_a_few_training_steps_then_export_and_load_back(tmp_path):
    data = make_idx_dir(tmp_path / "data", n_train=64, n_test=16)
    result = train(TrainConfig(model="mnist_resnet", data_dir=data, epochs=1, resize=0, batch_size=16,
                               optimizer="adam", lr=1e-3, out=str(tmp_path / "run"), verify_data=False,
                               progress=False, verbose=0))
    assert len(result.history) == 1 and onp.isfinite(result.history[0]["train_loss"])
    x = onp.random.RandomState(1).uniform(size=(2, 1, 28, 28)).astype("float32")
    expected = result.net(mx.nd.array(x)).asnumpy()
    prefix = str(tmp_path / "export" / "m")
    symbol_file, params_file = export_model(result.net, prefix, (1, 1, 28, 28))
    plain = mx.gluon.SymbolBlock.imports(symbol_file, ["data"], params_file)
    onp.testing.assert_allclose(plain(mx.nd.array(x)).asnumpy(), expected, rtol=1e-5, atol=1e-6)
    assert os.path.basename(params_file) == "m-0000.params"


def _requirement_names(dist):
    """The names of ``dist``'s requirements that apply here, without extras."""
    from importlib.metadata import distribution

    from packaging.requirements import Requirement
    names = []
    for line in distribution(dist).requires or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.append(requirement.name)
    return names


def test_one_mxnet_build_and_every_dependency_are_installed():
    """As a user with an MXNet build of their own installs the package (scripts/interpreters.sh
    installs MXNet first, then the wheel): no second build lands beside it, no dependency is missing."""
    from importlib.metadata import PackageNotFoundError, distribution, distributions
    builds = sorted({d.metadata["Name"].lower() for d in distributions()
                     if (d.metadata["Name"] or "").lower().startswith("mxnet")})
    assert len(builds) == 1, builds
    missing = []
    for name in _requirement_names("gluon-googlenet"):
        try:
            distribution(name)
        except PackageNotFoundError:
            missing.append(name)
    assert not missing


def test_an_export_to_onnx_computes_what_mxnet_does(tmp_path):
    try:
        import onnx  # noqa: F401
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        if os.environ.get("GLUON_GOOGLENET_REQUIRE_EXTRAS"):
            raise
        pytest.skip("no onnx here (the extra [onnx])")
    from gluon_googlenet.weights.export import export_onnx
    net = get_model("mnist_resnet")
    net.initialize(mx.init.Xavier())
    x = onp.random.RandomState(0).uniform(size=(2, 1, 28, 28)).astype("float32")
    path = export_onnx(net, str(tmp_path / "m.onnx"), (1, 1, 28, 28))
    (out,) = ReferenceEvaluator(path).run(None, {"data": x})
    onp.testing.assert_allclose(out, net(mx.nd.array(x)).asnumpy(), rtol=1e-4, atol=1e-5)
