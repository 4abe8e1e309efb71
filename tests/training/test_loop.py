"""The loop's core: losses with aux heads, an epoch over two contexts, evaluation with and without
flip test-time augmentation."""
import mxnet as mx
import numpy as np
import pytest


def test_aux_losses_weigh_point_three():
    from gluon_googlenet.nn.staged import TrainOutputs
    from gluon_googlenet.training.loop import compute_loss
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    label = mx.nd.array([1, 0])
    main, aux1, aux2 = (mx.nd.random.normal(shape=(2, 3)) for _ in range(3))
    expected = loss_fn(main, label) + 0.3 * loss_fn(aux1, label) + 0.3 * loss_fn(aux2, label)
    got = compute_loss(loss_fn, TrainOutputs(main, (aux1, aux2)), label)
    np.testing.assert_allclose(got.asnumpy(), expected.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(compute_loss(loss_fn, main, label).asnumpy(),
                               loss_fn(main, label).asnumpy())


def test_an_epoch_over_two_contexts_counts_every_example(tmp_path):
    """train_epoch takes the resolved run: its contexts, normalisation and settings."""
    from gluon_googlenet import TrainConfig
    from gluon_googlenet.nn.registry import build_model
    from gluon_googlenet.training.data.sampling import make_loader
    from gluon_googlenet.training.loop import evaluate, train_epoch
    from gluon_googlenet.training.optimizer import make_trainer
    from gluon_googlenet.training.run.resolve import resolve_run
    run = resolve_run(TrainConfig(model="mnist_resnet", resize=0, ctx="cpu:0,1", out=str(tmp_path)))
    rng = np.random.RandomState(0)
    images, labels = rng.randint(0, 256, (40, 1, 28, 28)).astype(np.uint8), (np.arange(40) % 10).astype(np.int32)
    net = build_model("mnist_resnet")
    net.initialize(mx.init.Xavier(), ctx=list(run.ctxs))
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    result = train_epoch(net, make_trainer(net, run), make_loader(images, labels, 16, seed=0), loss_fn, run)
    assert (result.seen, result.batches, result.stopped) == (40, 3, False)
    assert np.isfinite(result.loss) and 0 <= result.acc <= 1 and result.seconds > 0
    result = evaluate(net, make_loader(images, labels, 16), run.ctxs, 10, loss_fn, run.norm)
    assert result["count"] == 40 and result["confusion"].sum() == 40 and len(result["predictions"]) == 40


def test_flip_tta_averages_each_image_with_its_mirror():
    from gluon_googlenet.base.errors import ConfigError
    from gluon_googlenet.nn.registry import build_model
    from gluon_googlenet.training.data.sampling import make_loader
    from gluon_googlenet.training.loop import evaluate
    rng = np.random.RandomState(1)
    images, labels = rng.randint(0, 256, (24, 1, 28, 28)).astype(np.uint8), (np.arange(24) % 10).astype(np.int32)
    net = build_model("mnist_resnet")
    net.initialize(mx.init.Xavier(magnitude=3))
    x = mx.nd.array(images, dtype="uint8").astype("float32") / 255
    logits = ((net(x) + net(x.flip(axis=3))) / 2).asnumpy()
    result = evaluate(net, make_loader(images, labels, 10), [mx.cpu()], 10, tta="flip")
    np.testing.assert_array_equal(result["predictions"], logits.argmax(axis=1))
    assert result["acc"] == float((logits.argmax(axis=1) == labels).mean())
    plain = evaluate(net, make_loader(images, labels, 10), [mx.cpu()], 10)
    np.testing.assert_array_equal(plain["predictions"], net(x).asnumpy().argmax(axis=1))
    with pytest.raises(ConfigError, match="unknown test-time augmentation 'rotate'; use one of: flip"):
        evaluate(net, make_loader(images, labels, 10), [mx.cpu()], 10, tta="rotate")
