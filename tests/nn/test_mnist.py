"""Article 004's MNIST nets learn real Fashion-MNIST at 28x28."""
from gluon_googlenet import TrainConfig, train

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("model", ["mnist_inception", "mnist_resnet"])
def test_mnist_nets_learn_fashion_mnist_at_28(fashion_dir, tmp_path, model):
    result = train(TrainConfig(model=model, data_dir=fashion_dir, epochs=2, limit_train=2048,
                               limit_test=500, batch_size=64, optimizer="adam", lr=1e-3,
                               out=str(tmp_path / model), progress=False))
    assert result.net.fixed_size == 28
    assert result.history[-1]["test_acc"] > 0.6
