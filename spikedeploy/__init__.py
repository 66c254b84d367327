"""spikedeploy: train spiking ResNets with lava-dl SLAYER, deploy them bit-exactly to Loihi.

Stages talk through files:
    train -> checkpoint.pt -> export -> network.h5 -> sim / deploy -> recording.npz
"""

__version__ = "0.1.0"
