"""``get_model``: a registered model, built fresh or with published weights, whole or as a
feature pyramid."""
from ..nn.backbone import FeatureNet
from ..nn.registry import build_model
from .pretrained import get_pretrained


def get_model(name, pretrained=None, features_only=False, out_indices=None, ctx=None, **kwargs):
    """Build a registered model, e.g. ``get_model('googlenet_d2l', num_classes=10)``.

    ``pretrained``: a published weights file (GluonCV .params, torchvision .pth, timm
    .safetensors), or a publisher's name for its own file, downloaded on first use into the cache
    its library keeps ('gluoncv' or True, 'torchvision', 'timm', 'timm:TAG'); the net then comes
    initialised with them, on ``ctx`` (as GluonCV's ``get_model``: without weights the net is left
    uninitialised and ``ctx`` unused; see ``pretrained.get_pretrained``; ``num_classes`` may differ
    from the file's).
    ``features_only``: a FeatureNet instead, whose output is the list of feature maps at the
    levels ``out_indices`` (default all; ``net.feature_info`` describes them); with
    ``pretrained`` it takes the trunk's weights and skips the classifier.
    """
    if pretrained:
        net = get_pretrained(name, pretrained, trunk_only=features_only, ctx=ctx, **kwargs)
    else:
        net = build_model(name, **kwargs)
    if not features_only:
        return net
    pyramid = FeatureNet(net, out_indices)
    pyramid.pretrained_cfg = getattr(net, "pretrained_cfg", None)
    return pyramid
