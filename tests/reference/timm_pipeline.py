"""Runs in the PyTorch venv: a timm model of one pretrained tag (random weights, random BN
statistics), saved as a tagged file and as a model hub folder, and the top-5 classes of images
through timm's own evaluation pipeline (resolve_data_config + create_transform).

    python timm_pipeline.py MODEL.TAG OUT_DIR IMAGE ...

Writes OUT_DIR/MODEL.TAG.safetensors (the tag in its name), OUT_DIR/hub/model.safetensors with
timm's config.json beside it (save_for_hf, as the hubs keep timm weights), and top5.json: per
image, timm's five best classes; inputs.npy: the images as timm's transform gives them.
"""
import json
import os
import sys
import types

# PyPI's torchvision links CUDA ops that a CPU-only torch lacks: skip their meta registrations
# (as torch_models.py does) before timm imports torchvision.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import numpy as np  # noqa: E402
import timm  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from timm.data import create_transform, resolve_data_config  # noqa: E402
from torch_models import randomize  # noqa: E402


def main(tagged, out, images):
    net = timm.create_model(tagged, pretrained=False)
    randomize(net)
    net.eval()
    transform = create_transform(**resolve_data_config({}, model=net))
    inputs = torch.stack([transform(Image.open(path).convert("RGB")) for path in images])
    with torch.no_grad():  # a random net's features share a large common part: the classifier leaves it out
        features = net.forward_head(net.forward_features(inputs), pre_logits=True)
        classifier = net.get_classifier()
        classifier.bias.copy_(-classifier.weight @ features.mean(0))
        top5 = [row.topk(5).indices.tolist() for row in net(inputs)]
    os.makedirs(os.path.join(out, "hub"), exist_ok=True)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, os.path.join(out, f"{tagged}.safetensors"))
    from timm.models._hub import save_for_hf
    save_for_hf(net, os.path.join(out, "hub"), safe_serialization=True)
    with open(os.path.join(out, "top5.json"), "w", encoding="utf-8") as handle:
        json.dump(top5, handle)
    np.save(os.path.join(out, "inputs.npy"), inputs.numpy())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
