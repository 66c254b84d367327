"""Spiking ResNets from lava-dl SLAYER parts, data sets and encodings, the training loop."""

from .network import SpikingNetwork
from .resnet import build_model
from .trainer import TrainResult, load_checkpoint, predict, train

__all__ = ["SpikingNetwork", "TrainResult", "build_model", "load_checkpoint", "predict", "train"]
