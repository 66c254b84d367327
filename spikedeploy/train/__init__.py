"""Spiking ResNets from lava-dl SLAYER parts, data sets and encodings, the training loop."""

from .checkpoint import load_checkpoint
from .distributed import World
from .network import SpikingNetwork
from .resnet import build_model
from .trainer import TrainResult, predict, train
from .twin import AnnTwin

__all__ = ["AnnTwin", "SpikingNetwork", "TrainResult", "World", "build_model", "load_checkpoint",
           "predict", "train"]
