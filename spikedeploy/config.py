"""Typed configuration: TOML presets plus `section.key=value` overrides.

Every section is a dataclass; an unknown key or a value of the wrong type is a ConfigError that
names the file and the key. The resolved configuration travels with every artifact (run folder,
checkpoint, exported graph), so each one says where it came from.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:          # Python 3.10
    import tomli as tomllib

from .errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


@dataclass
class NeuronConfig:
    """CUBA LIF parameters (SLAYER's units: threshold in weight units, decays as fractions)."""

    threshold: float = 1.25
    current_decay: float = 0.25
    voltage_decay: float = 0.03
    # Surrogate spike derivative peak * exp(-|v - threshold| / width), with SLAYER's constants:
    tau_grad: float = 0.03        # width = 100 * tau_grad * threshold
    scale_grad: float = 3.0       # peak = 0.1 * scale_grad / (2 * width)
    norm: str = "bias"            # "bias" (learned per channel), "batch" (batch norm of the
                                  # current, folded at export), "mean_only" (SLAYER's), "none"


@dataclass
class ModelConfig:
    """A spiking ResNet; the layouts of ResNet-8/18/34/50 are in docs/guide.md."""

    arch: str = "resnet"
    block: str = "basic"          # "basic": two 3x3 convs; "bottleneck": 1x1, 3x3, 1x1 (4x wide)
    stem: str = "cifar"           # "cifar": 3x3 conv; "imagenet": 7x7 stride-2 conv, 2x2 sum-pool
    downsample: str = "pool"      # "pool": sum-pool after every stage; "stride": stride-2 first
                                  # block in every stage but the first
    head: str = "flatten"         # "flatten": dense on the flattened map; "global_pool": sum over
                                  # the map, then dense (one synapse on the chip)
    width: float = 1.0            # multiplies stem_channels and stage_channels
    stem_channels: int = 16
    stage_channels: list[int] = field(default_factory=lambda: [16, 32])   # bottleneck: inner
    blocks_per_stage: list[int] = field(default_factory=lambda: [1, 1])
    pool_kernel: int = 2          # downsample = "pool": sum-pool kernel; 0 turns pooling off
    identity_weight: float = 1.0  # fixed weight of identity shortcuts
    pool_weight: float = 1.0      # fixed weight of sum-pool synapses
    weight_scale: float = 1.0     # multiplies the initial weights
    twin: str = "none"            # "none": the spiking network; "ann": its float ANN twin
    neuron: NeuronConfig = field(default_factory=NeuronConfig)


@dataclass
class DataConfig:
    """A data set, its encoding into input frames, and training augmentations (docs/guide.md,
    "Data")."""

    name: str = "digits"          # offline default: scikit-learn's 8x8 digits; also "mnist",
                                  # "cifar10", "cifar100", "imagenette", "nmnist" (need root)
    root: str = ""                # directory of a data set on disk, for those that need one
    encoding: str = "direct"      # "direct": graded intensities every step; "rate": spikes;
                                  # "events": event counts per time bin (nmnist)
    time_steps: int = 16          # T: input frames per sample (the paper's time steps)
    drain_steps: int = 0          # D: all-zero frames after them, so the last input frames
                                  # reach the output through the network's one-step synapses
                                  # (set it to the pipeline depth, see docs/guide.md "Time")
    heldout_fraction: float = 0.2 # digits only: the others have their own test split
    split_seed: int = 0           # digits' split; the file order of folder-tree data sets
    limit: int = 0                # use only the first N samples of each split (0: all)
    intensity_levels: int = 0     # requantize pixels to 0..L, fewer bits per graded input
                                  # spike (0: the data set's own, 16 digits, 255 the others)
    image_size: int = 0           # imagenette: side of the square images in pixels (0: 128)
    augment: list[str] = field(default_factory=list)   # training split only, in order:
                                  # "flip", "pad_crop", "resized_crop"
    crop_padding_px: int = 4      # pad_crop: zero padding per side (CIFAR: 4, He et al. 2016)
    resized_crop_min_area: float = 0.35   # resized_crop: smallest fraction of the image
                                  # (fast.ai's Imagenette setting)
    event_window_us: int = 300_000  # events: the window cut into time_steps bins (N-MNIST:
                                  # three saccades of about 100 ms each, Orchard et al. 2015)
    event_clip: int = 1           # events: largest count per pixel and bin (1: binary spikes)


@dataclass
class TrainConfig:
    float_epochs: int = 10        # epochs with float weights
    qat_epochs: int = 10          # then epochs on the chip's weight grid
    batch_size: int = 32
    lr: float = 0.003
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "cpu"           # "cpu", "cuda" (SLAYER's CUDA kernels), "auto": cuda if present
    threads: int = 0              # torch CPU threads; 0 leaves torch's default


@dataclass
class DiagnosticsConfig:
    """Gradient-flow checks on each synapse's weight-gradient RMS, averaged over an epoch."""

    # 10 x Adam's eps (1e-8): gradients smaller than that hardly move the weights any more.
    grad_rms_min: float = 1e-7    # below: vanishing
    # The loss's own gradient on output spike counts is at most 1 per count: far above is a
    # surrogate gradient that grows through depth or time.
    grad_rms_max: float = 10.0    # above: exploding
    # Four orders of magnitude from the median layer (the demo spans about 1/25 to 1000 x).
    grad_ratio_max: float = 1e4   # this many times above (below) the median layer: explodes
    plots: bool = True            # write training_curve.png and grad_rms.png every epoch


@dataclass
class DeployConfig:
    backend: str = "sim"          # "sim": Lava CPU simulator; "loihi2": needs lava-loihi
    lava_samples: int = 20        # held-out samples run through Lava in the demo
    emulator_batch: int = 256


@dataclass
class Config:
    name: str = "run"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    diagnostics: DiagnosticsConfig = field(default_factory=DiagnosticsConfig)
    deploy: DeployConfig = field(default_factory=DeployConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)


def preset_path(name_or_path: str) -> Path:
    """A preset name (`demo`) resolves to configs/demo.toml; anything else is a path."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        path = CONFIG_DIR / f"{name_or_path}.toml"
    return path


def load(name_or_path: str | None = None, overrides: list[str] = ()) -> Config:
    """Defaults, then the TOML preset, then `a.b=value` overrides, each checked for type."""
    raw: dict[str, Any] = {}
    source = "defaults"
    if name_or_path:
        path = preset_path(name_or_path)
        if not path.is_file():
            raise ConfigError("no such config file", path)
        try:
            raw = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:   # TOML is UTF-8 text
            raise ConfigError(f"not valid TOML ({err})", path) from None
        source = str(path)
    config = from_dict(raw, source)
    for item in overrides:
        apply_override(config, item)
    return config


def from_dict(raw: dict[str, Any], source: str = "config") -> Config:
    try:
        return _build(Config, raw, "")
    except ConfigError as err:
        raise ConfigError(err.message, source) from None


def apply_override(config: Config, item: str) -> None:
    """Apply `section.key=value`; the value is parsed as TOML, or taken as a bare string."""
    if "=" not in item:
        raise ConfigError(f"override '{item}' must look like section.key=value")
    dotted, text = item.split("=", 1)
    *parents, key = dotted.strip().split(".")
    target = config
    for part in parents:
        if not dataclasses.is_dataclass(target) or part not in _field_types(type(target)):
            raise ConfigError(f"unknown config section '{dotted}'")
        target = getattr(target, part)
    if not dataclasses.is_dataclass(target) or key not in _field_types(type(target)):
        raise ConfigError(f"unknown config key '{dotted}'")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    setattr(target, key, _check(_field_types(type(target))[key], value, dotted))


def _field_types(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _build(cls, raw: Any, prefix: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"'{prefix.rstrip('.') or 'config'}' must be a table")
    types_ = _field_types(cls)
    unknown = sorted(set(raw) - set(types_))
    if unknown:
        raise ConfigError(f"unknown config key '{prefix}{unknown[0]}'")
    values = {}
    for key, value in raw.items():
        kind = types_[key]
        if dataclasses.is_dataclass(kind):
            values[key] = _build(kind, value, f"{prefix}{key}.")
        else:
            values[key] = _check(kind, value, f"{prefix}{key}")
    return cls(**values)


def _check(kind, value, where: str):
    """Check (and gently coerce int -> float) a value against a field's annotation."""
    origin = typing.get_origin(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise ConfigError(f"'{where}' must be a list, got {value!r}")
        return [_check(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(kind):
            try:
                return _check(option, value, where)
            except ConfigError:
                pass
        raise ConfigError(f"'{where}' has the wrong type: {value!r}")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is type(None) and value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"'{where}' must be {kind.__name__}, got {value!r}")
    return value


def to_toml(config: Config) -> str:
    """The resolved configuration as TOML that `load` reads back to an equal Config."""
    lines = [f"name = {json.dumps(config.name)}"]

    def table(prefix: str, obj) -> None:
        scalars = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)
                   if not dataclasses.is_dataclass(getattr(obj, f.name))]
        lines.append(f"\n[{prefix}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in scalars)
        for f in dataclasses.fields(obj):
            if dataclasses.is_dataclass(getattr(obj, f.name)):
                table(f"{prefix}.{f.name}", getattr(obj, f.name))

    for f in dataclasses.fields(config):
        if dataclasses.is_dataclass(getattr(config, f.name)):
            table(f.name, getattr(config, f.name))
    return "\n".join(lines) + "\n"
