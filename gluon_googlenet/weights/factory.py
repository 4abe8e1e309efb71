"""``get_model``: a registered model, built fresh or with published weights."""
from ..nn.registry import build_model
from .pretrained import get_pretrained


def get_model(name, pretrained=None, **kwargs):
    """Build a registered model, e.g. ``get_model('googlenet_d2l', classes=10)``.

    ``pretrained``: a published weights file (GluonCV .params, torchvision .pth, timm
    .safetensors) or True for GluonCV's model store; the net then comes initialised with them
    (see ``pretrained.get_pretrained``; ``classes`` may differ from the file's).
    """
    if pretrained:
        return get_pretrained(name, pretrained, **kwargs)
    return build_model(name, **kwargs)
