"""Plain torch modules (no downloads, no pretrained weights), each a chain of `blocks`.

`alexnet`, `vgg16`, `resnet` (CIFAR ResNet-(6k+2)), `mobilenet_v1` and `synthetic`
(seeded random chains); each module documents its block grouping.
"""
