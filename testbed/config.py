"""The `testbed` config group, read strictly (a typo names its key, a bad value its field)."""

from __future__ import annotations

from dataclasses import dataclass, field

from problems.errors import FieldError
from problems.schema import require

COMMANDS = ("run", "calibrate")


@dataclass
class DeviceConfig:
    cpu_throttling: float = 4.0  # DevTools Emulation.setCPUThrottlingRate (1: no slow-down)
    browser: str = "chromium"  # the Chromium binary (a name on PATH or a path)

    def validate(self, prefix: str) -> None:
        if not self.cpu_throttling >= 1:
            raise FieldError(f"{prefix}.cpu_throttling", "must be at least 1", self.cpu_throttling)


@dataclass
class ServerConfig:
    threads: int = 1  # onnxruntime intra-op threads

    def validate(self, prefix: str) -> None:
        if self.threads < 1:
            raise FieldError(f"{prefix}.threads", "must be a positive integer", self.threads)


@dataclass
class LinkCheckConfig:
    sizes_kb: list[float] = field(default_factory=lambda: [16.0, 256.0, 1024.0, 2048.0])
    repeats: int = 3

    def validate(self, prefix: str) -> None:
        if len(self.sizes_kb) < 2:
            raise FieldError(f"{prefix}.sizes_kb", "needs at least two sizes (rate and delay are fitted)",
                             self.sizes_kb)
        for i, kb in enumerate(self.sizes_kb):
            if not kb > 0:
                raise FieldError(f"{prefix}.sizes_kb[{i}]", "must be greater than 0", kb)
        if self.repeats < 1:
            raise FieldError(f"{prefix}.repeats", "must be a positive integer", self.repeats)


@dataclass
class LayerFitConfig:
    enabled: bool = True  # command=calibrate: time Table 1 layer types and fit the models of Sec. 3.2
    repeats: int = 5
    min_loop_ms: float = 100.0  # sub-ms layers: long loops average over the throttler's pauses and machine noise


@dataclass
class TestbedConfig:
    __test__ = False  # not a pytest test class

    partitions: list[str] = field(default_factory=lambda: ["dp", "device_only", "edge_only", "cloud_only",
                                                           "neurosurgeon"])
    requests: int = 20
    warmup_requests: int = 1  # per partition, run before the measured requests and not recorded
    calibration: str | None = None  # a calibration.json to reuse instead of calibrating
    warmup: int = 2  # block calibration: per tier, warm-up requests that give the tier every block,
    repeats: int = 9  # then timed ones; a block's time is its median inside them
    request_timeout_s: float = 60.0
    startup_timeout_s: float = 120.0
    device: DeviceConfig = field(default_factory=DeviceConfig)
    edge: ServerConfig = field(default_factory=ServerConfig)
    cloud: ServerConfig = field(default_factory=lambda: ServerConfig(threads=2))
    link_check: LinkCheckConfig = field(default_factory=LinkCheckConfig)
    layer_fit: LayerFitConfig = field(default_factory=LayerFitConfig)

    def validate(self, prefix: str) -> None:
        if not self.partitions:
            raise FieldError(f"{prefix}.partitions", "must not be empty", self.partitions)
        for key in ("requests", "repeats"):
            if getattr(self, key) < 1:
                raise FieldError(f"{prefix}.{key}", "must be a positive integer", getattr(self, key))
        require(prefix, self, positive=("request_timeout_s", "startup_timeout_s"),
                non_negative=("warmup", "warmup_requests"))
