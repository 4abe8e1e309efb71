"""Weights and graphs that cross the package's border: published ImageNet weights read in
(GluonCV, torchvision without torch, timm), ``get_model`` with ``pretrained=``, export to
MXNet symbol/params and ONNX, and MXNet's faster inference graphs (fused, bfloat16, INT8)."""
