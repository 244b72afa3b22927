"""Plain torch modules (no downloads, no pretrained weights).

Chains of `blocks`, profiled block by block (`problems.torch_profile`): `alexnet`,
`vgg16`, `resnet` (CIFAR ResNet-(6k+2)), `mobilenet_v1` and `synthetic` (seeded random
chains); each module documents its block grouping. DAGs, traced layer by layer with
torch.fx (`problems.dag_profile`): `imagenet_resnet` (ResNet-18, ResNet-50), `googlenet`,
`densenet` (DenseNet-121) and `mobilenet_v2`, each the layout of the reference
implementation whose parameter count is the published one.
"""
