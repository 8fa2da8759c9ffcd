"""Run configuration: YAML validated into typed models.

The schema is assembled from the registered scenes and detectors (``source.kind`` and
``detectors[].kind`` choose the model). Every problem is reported as one
:class:`ConfigError` naming the field path, the bad value and what is allowed.
"""

from __future__ import annotations

import copy
import itertools
import math
from functools import lru_cache
from pathlib import Path
from typing import Literal, Annotated, Any, Union

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from sensing.study.registry import ANALYSES, DETECTORS, SCENES, load_plugins

#: Upper bounds that keep a run within what one machine or a cluster can do.
MAX_COPIES = 10**15
MAX_REPETITIONS = 100_000
#: Sweep points of one run (each is validated and built up front).
MAX_POINTS = 10_000
#: Dask tasks of one run (the scheduler holds every task; about 1 kB each).
MAX_TASKS = 2_000_000
#: Bytes of reduced statistics a run keeps (repetitions x outputs x checkpoints x units x 8 bytes).
MAX_STATISTICS_BYTES = 8 * 2**30
#: Workers of an embedded local cluster (also capped by the machine's cores).
MAX_WORKERS = 64


class ConfigError(ValueError):
    """Invalid configuration. ``problems`` lists ``(field path, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{path}: {message}" for path, message in problems))


def _whole_number(value: Any) -> Any:
    """Accept 1000000, 1e6, 1.0e6 or '1e6' for counts; reject fractions and booleans."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not a boolean")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"must be a whole number (e.g. 1000000 or 1e6), got {value!r}") from None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"must be a whole number (e.g. 1000000 or 1e6), got {value!r}")
        return int(value)
    return value


Count = Annotated[int, BeforeValidator(_whole_number)]


class PipelineSettings(BaseModel):
    """How copies are batched and where the work runs."""

    model_config = ConfigDict(extra="forbid")

    batch_size: Count = Field(10_000_000, ge=1, le=MAX_COPIES, description="copies sampled by one batch")
    batches_per_task: Count = Field(64, ge=1, le=100_000, description="consecutive batches one dask task runs")
    repetitions_per_task: Count = Field(128, ge=1, le=MAX_REPETITIONS, description="repetitions one dask task runs (the numbers do not depend on it: every repetition has its own random stream)")
    scheduler: Literal["auto", "synchronous", "threads", "local"] | None = Field(
        None,
        description="where the work runs in-process: 'auto' (the default: 'synchronous' for runs that fit in "
                    "seconds, else 'local'), 'synchronous', 'threads' or 'local' (embedded LocalCluster). A cluster "
                    "address is never taken from a config: pass --scheduler, the API's scheduler=, or set dask's "
                    "scheduler-address",
    )
    max_hours: float = Field(24.0, gt=0.0, le=1e6, allow_inf_nan=False,
                             description="refuse runs whose estimated sampling cost exceeds this many core-hours "
                                         "(an estimate from the detectors' draws per copy; raise it to allow a long run)")
    workers: Count | None = Field(None, ge=1, le=MAX_WORKERS,
                                  description=f"workers of the embedded local cluster (at most {MAX_WORKERS}, and "
                                              "never more than the machine's cores)")

    @field_validator("scheduler", mode="before")
    @classmethod
    def _no_addresses(cls, value: Any) -> Any:
        if isinstance(value, str) and "://" in value:
            raise ValueError(
                f"scheduler {value!r}: a config may not name a cluster address (a shared config could send your "
                "run to someone else's scheduler); pass --scheduler ADDRESS, sensing.run(..., scheduler=ADDRESS), "
                "or set dask's scheduler-address; allowed here: auto, synchronous, threads, local")
        return value


class TargetSettings(BaseModel):
    """Run to a target precision instead of fixed ``copies`` (see :mod:`sensing.pipelines.target`)."""

    model_config = ConfigDict(extra="forbid")

    parameter: str = Field(min_length=1, description="estimated parameter whose relative error is targeted")
    relative_error: float | None = Field(
        None, gt=0.0, lt=1.0, description="target relative error (standard deviation / |mean| of the estimates)")
    precision: float | str | None = Field(
        None, description="alternative to relative_error: target standard deviation in the parameter's unit or with a "
        "unit ('1 mas'); the relative target at each sweep point is precision / |true value| (sensing.pipelines.target)")
    max_copies: Count = Field(ge=1, le=MAX_COPIES, description="copy budget per sweep point and detector")
    initial_copies: Count = Field(10_000, ge=1, le=MAX_COPIES, description="first checkpoint; later ones double it")

    @model_validator(mode="after")
    def _one_target(self):
        if (self.relative_error is None) == (self.precision is None):
            raise ValueError("give exactly one of relative_error and precision")
        return self


class RunConfigBase(BaseModel):
    """Fields of a run that do not depend on the registered plug-ins."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("run", min_length=1, description="name of the run (used in titles)")
    seed: Count = Field(ge=0, le=2**63 - 1, description="root seed of every random draw")
    copies: list[Count] | None = Field(None, min_length=1, description="numbers of copies at which estimates are made (increasing)")
    target: TargetSettings | None = Field(None, description="run until this precision is reached (instead of copies)")
    repetitions: Count = Field(50, ge=2, le=MAX_REPETITIONS, description="simulated experiments per copies value")
    sweep: dict[str, list[Any]] = Field({}, description="config fields to sweep: {dotted.path: [values]}")
    pipeline: PipelineSettings = PipelineSettings()

    @model_validator(mode="before")
    @classmethod
    def _default_analysis(cls, data):
        """Without an ``analysis`` section, use the scene's default analysis."""
        if isinstance(data, dict) and "analysis" not in data:
            source = data.get("source")
            kind = source.get("kind") if isinstance(source, dict) else None
            if kind in SCENES:
                data = {**data, "analysis": {"kind": SCENES[kind].default_analysis}}
        return data

    @model_validator(mode="after")
    def _consistent(self):
        scene_cls = SCENES[self.source.kind]  # type: ignore[attr-defined]
        analysis = self.analysis  # type: ignore[attr-defined]
        problems = ANALYSES[analysis.kind].check(analysis, scene_cls, [DETECTORS[d.kind] for d in self.detectors])  # type: ignore[attr-defined]
        names = [d.name for d in self.detectors]  # type: ignore[attr-defined]
        for name in {n for n in names if names.count(n) > 1}:
            problems.append(f"detectors: the name {name!r} is used by more than one detector; names must be unique")
        problems += pairing_problems(scene_cls, ANALYSES[analysis.kind], [DETECTORS[d.kind] for d in self.detectors])  # type: ignore[attr-defined]
        copies = self.copies or []
        if (self.copies is None) == (self.target is None):
            problems.append("copies: give either copies (a list of copy counts) or target (run to a precision), "
                            + ("not both" if copies else "one of them is required"))
        for i, (a, b) in enumerate(zip(copies, copies[1:])):
            if b <= a:
                problems.append(f"copies.{i + 1}: copies must increase strictly, got {a} then {b}")
        for i, c in enumerate(copies):
            if not 1 <= c <= MAX_COPIES:
                problems.append(f"copies.{i}: must be between 1 and {MAX_COPIES:.0e}, got {c}")
        if self.target is not None:
            problems += _target_problems(self.target, scene_cls, analysis)
        for key, values in self.sweep.items():
            if not values:
                problems.append(f"sweep.{key}: needs at least one value")
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _names(types) -> list[str]:
    return sorted(t.__name__ for t in types)


def pairing_problems(scene_cls, analysis_cls, detector_classes: list[type]) -> list[str]:
    """Every way the scene, the analysis and the detectors of a config cannot serve each other.

    A detector must accept a typed state the scene provides; the analysis needs typed states
    from the scene and capabilities from every detector. Each problem names the field and what
    would be allowed instead.
    """
    problems = []
    scene_kind = scene_cls.kind
    missing = analysis_cls.scene_provides - scene_cls.provides
    if missing:
        fitting = [k for k, a in ANALYSES.items() if a.scene_provides <= scene_cls.provides]
        sources = [k for k, s in SCENES.items() if analysis_cls.scene_provides <= s.provides]
        problems.append(f"analysis.kind: analysis {analysis_cls.kind!r} needs a source providing {_names(missing)} "
                        f"(source kinds {sources}); source kind {scene_kind!r} provides {_names(scene_cls.provides)} "
                        f"(analyses it can serve: {fitting})")
    def servable() -> list[str]:  # imports every detector plugin: only for a message
        return [k for k, d in DETECTORS.items() if d.accepts in scene_cls.provides
                and analysis_cls.detector_capabilities <= d.capabilities]

    for i, det in enumerate(detector_classes):
        if det.accepts not in scene_cls.provides:
            problems.append(f"detectors.{i}.kind: detector kind {det.kind!r} needs a source providing "
                            f"{det.accepts.__name__}; source kind {scene_kind!r} provides {_names(scene_cls.provides)} "
                            f"(detector kinds allowed here: {servable()})")
        elif not analysis_cls.detector_capabilities <= det.capabilities:
            problems.append(f"detectors.{i}.kind: analysis {analysis_cls.kind!r} needs detectors with "
                            f"{sorted(analysis_cls.detector_capabilities)}; detector kind {det.kind!r} has "
                            f"{sorted(det.capabilities)} (detector kinds allowed here: {servable()})")
    return problems


def _target_problems(target: TargetSettings, scene_cls, analysis) -> list[str]:
    problems = []
    if target.initial_copies > target.max_copies:
        problems.append(f"target.initial_copies: must not exceed target.max_copies ({target.max_copies}), got {target.initial_copies}")
    estimated = ANALYSES[analysis.kind].target_parameters(analysis, scene_cls)
    if estimated is None:
        able = [k for k, a in ANALYSES.items() if a.target_parameters(a.Settings.model_construct(), scene_cls) is not None]
        problems.append(f"target: analysis kind {analysis.kind!r} makes no estimates; target needs analysis.kind in {able}")
        return problems
    if target.parameter not in estimated:
        problems.append(f"target.parameter: {target.parameter!r} is not estimated by the analysis; estimated: {estimated}")
    return problems


def _union(settings: list[type[BaseModel]]):
    if len(settings) == 1:
        return settings[0]
    return Annotated[Union[tuple(settings)], Field(discriminator="kind")]


@lru_cache(maxsize=None)
def _model(scene_kinds: tuple[str, ...], detector_kinds: tuple[str, ...], analysis_kinds: tuple[str, ...]) -> type[BaseModel]:
    return create_model(
        "RunConfig",
        __base__=RunConfigBase,
        source=(_union([SCENES[k].Settings for k in scene_kinds]), Field(description="the scene")),
        detectors=(list[_union([DETECTORS[k].Settings for k in detector_kinds])], Field(min_length=1)),
        analysis=(_union([ANALYSES[k].Settings for k in analysis_kinds]), Field(description="what to compute")),
    )


def config_model() -> type[BaseModel]:
    """The pydantic model of a run config for the scenes, detectors and analyses registered now."""
    load_plugins()
    return _model(tuple(SCENES), tuple(DETECTORS), tuple(ANALYSES))


def _named_kinds(raw: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
    """The registered scene, detector and analysis kinds a raw config names, read without
    importing any plugin but the scene's (for its default analysis); None unless every kind is
    a registered name."""
    if not isinstance(raw, dict):
        return None
    source, detectors, analysis = raw.get("source"), raw.get("detectors"), raw.get("analysis", None)
    scene = source.get("kind") if isinstance(source, dict) else None
    if not isinstance(scene, str) or scene not in SCENES or not isinstance(detectors, list) or not detectors:
        return None
    kinds = [d.get("kind") if isinstance(d, dict) else None for d in detectors]
    if not all(isinstance(k, str) and k in DETECTORS for k in kinds):
        return None
    if "analysis" in raw:
        chosen = analysis.get("kind") if isinstance(analysis, dict) else None
    else:
        chosen = SCENES[scene].default_analysis  # what _default_analysis fills in
    if not isinstance(chosen, str) or chosen not in ANALYSES:
        return None
    return (scene,), tuple(sorted(set(kinds))), (chosen,)


def _validated(raw: dict):
    """``raw`` validated by the model of only the kinds it names (importing only those plugins).

    When that model rejects ``raw``, or a kind is not registered, the model of every registered
    kind validates it instead: every error is reported exactly as that model reports it (e.g.
    an unknown kind lists all allowed kinds), and what that model accepts is accepted.
    """
    named = _named_kinds(raw)
    if named is not None:
        try:
            return _model(*named).model_validate(raw)
        except ValidationError:
            pass  # the messages come from the full model below
    return config_model().model_validate(raw)


# -- dotted paths ------------------------------------------------------------------------------
def _step(container: Any, key: str, path: str):
    """Resolve one path component: dict key, list index, or the list item with that ``name``."""
    if isinstance(container, dict):
        return key
    if isinstance(container, list):
        if key.lstrip("-").isdigit():
            index = int(key)
            if not -len(container) <= index < len(container):
                raise ConfigError([(path, f"index {index} is out of range (the list has {len(container)} items)")])
            return index
        for index, item in enumerate(container):
            if isinstance(item, dict) and item.get("name") == key:
                return index
        names = [item.get("name") for item in container if isinstance(item, dict)]
        raise ConfigError([(path, f"no item named {key!r}; names are {names}")])
    raise ConfigError([(path, f"cannot descend into a {type(container).__name__}")])


def set_path(raw: dict, path: str, value: Any) -> None:
    """Set ``raw[a][b][c] = value`` for ``path = 'a.b.c'`` (list items by index or name)."""
    keys = path.split(".")
    node: Any = raw
    for depth, key in enumerate(keys[:-1]):
        k = _step(node, key, ".".join(keys[: depth + 1]))
        if isinstance(node, dict) and k not in node:
            node[k] = {}
        node = node[k]
    node[_step(node, keys[-1], path)] = value


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """``['a.b=1', 'c=[1, 2]']`` -> ``{'a.b': 1, 'c': [1, 2]}`` (values parsed as YAML)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError([("--set", f"expected KEY=VALUE (dotted key), got {item!r}")])
        out[key.strip()] = parse_yaml(text, f"--set {key.strip()}")
    return out


# -- loading ------------------------------------------------------------------------------------
#: Largest config file read (bytes), YAML aliases expanded, and nesting depth of a config.
MAX_CONFIG_BYTES = 1 << 20
MAX_ALIASES = 16
MAX_DEPTH = 32


class _ConfigLoader(yaml.SafeLoader):
    """The safe loader, stricter: duplicate keys, many aliases (alias bombs), deep nesting and
    tags other than YAML's plain scalars and collections are errors, not silently accepted."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (*name); configs need none")
        depth = getattr(self, "_depth", 0)
        if depth > MAX_DEPTH:
            raise yaml.YAMLError(f"nested deeper than {MAX_DEPTH} levels")
        self._depth = depth + 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_PLAIN_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}


def _refuse_tag(loader, node):
    raise yaml.constructor.ConstructorError(None, None, f"tag {node.tag!r} is not allowed in a config", node.start_mark)


for _tag in list(_ConfigLoader.yaml_constructors):
    if _tag is not None and _tag not in _PLAIN_TAGS:
        _ConfigLoader.add_constructor(_tag, _refuse_tag)
_ConfigLoader.add_constructor(None, _refuse_tag)


def parse_yaml(text: str, where: str) -> Any:
    """YAML text through the strict safe loader; problems become a ConfigError naming ``where``."""
    try:
        return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506  (a SafeLoader subclass)
    except (yaml.YAMLError, RecursionError) as err:
        raise ConfigError([(where, f"is not valid YAML for a config: {str(err).splitlines()[0] if str(err) else type(err).__name__}")]) from None


def read_raw(source: str | Path | dict) -> dict:
    """A config as a plain dict, from a YAML path or a dict (copied); strict safe YAML loader only."""
    if isinstance(source, dict):
        return copy.deepcopy(source)
    path = Path(source)
    if not path.is_file():
        raise ConfigError([("config", f"no such file: {str(path)!r}")])
    data = path.read_bytes()
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError([("config", f"{path} is {len(data)} bytes; a config may have at most {MAX_CONFIG_BYTES}")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError([("config", f"{path} is not UTF-8 text (byte {err.start}: {data[err.start:err.start + 1]!r})")]) from None
    raw = parse_yaml(text, "config")
    if not isinstance(raw, dict):
        raise ConfigError([("config", f"{path} must hold a mapping of fields, got {type(raw).__name__}")])
    return raw


def _problems(err: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    kinds = set(SCENES) | set(DETECTORS) | set(ANALYSES)
    problems = []
    for e in err.errors():
        loc = [str(x) for x in e["loc"]]
        # drop the discriminator tag pydantic inserts (detectors.0.camera.pixels -> detectors.0.pixels)
        loc = [x for i, x in enumerate(loc) if not (x in kinds and i > 0 and (loc[i - 1].isdigit() or loc[i - 1] in ("source", "analysis")))]
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "value_error" and not loc:  # model-level checks: "path: message" per line
            for line in msg.splitlines():
                path, sep, text = line.partition(": ")
                problems.append((prefix + path, text) if sep else (prefix + "config", line))
            continue
        if e["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; unknown keys are errors)"
        path = ".".join(loc) or "config"
        value = e.get("input")
        shown = "" if e["type"] in ("missing", "extra_forbidden") or isinstance(value, (dict, list)) or repr(value) in msg else f" (got {value!r})"
        problems.append((prefix + path, msg + shown))
    return problems


def _non_finite(node: Any, path: str) -> list[tuple[str, str]]:
    """Every NaN or infinite number in a raw config (no field accepts them)."""
    if isinstance(node, float) and not math.isfinite(node):
        return [(path or "config", f"must be a finite number, got {node!r}")]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _non_finite(v, f"{path}.{k}" if path else str(k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _non_finite(v, f"{path}.{i}" if path else str(i))]
    return []


def _lenient(raw: Any, validated: Any, path: str) -> list[tuple[str, str]]:
    """Values pydantic's lax mode would coerce silently: a boolean given for a number
    (``separation: true`` is not 1.0), and NaN or infinity spelled as a string (``"nan"``)."""
    if isinstance(raw, bool) and not isinstance(validated, bool):
        return [(path or "config", f"must be a number, not the boolean {raw!r}")]
    if isinstance(validated, float) and not math.isfinite(validated):
        return [(path or "config", f"must be a finite number, got {raw!r}")]
    if isinstance(raw, dict) and isinstance(validated, dict):
        return [p for k, v in raw.items() if k in validated for p in _lenient(v, validated[k], f"{path}.{k}" if path else str(k))]
    if isinstance(raw, list) and isinstance(validated, list) and len(raw) == len(validated):
        return [p for i, (a, b) in enumerate(zip(raw, validated)) for p in _lenient(a, b, f"{path}.{i}" if path else str(i))]
    return []


def _depth(node: Any, limit: int) -> bool:
    """True if ``node`` nests deeper than ``limit`` (iterative: no recursion limit to hit)."""
    stack = [(node, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def validate(raw: dict, prefix: str = ""):
    """Validate a raw dict into a RunConfig, or raise :class:`ConfigError`."""
    if _depth(raw, MAX_DEPTH):
        raise ConfigError([(prefix + "config", f"nested deeper than {MAX_DEPTH} levels")])
    bad = _non_finite(raw, "")
    if bad:
        raise ConfigError([(prefix + p, m) for p, m in bad])
    try:
        model = _validated(raw)
    except ValidationError as err:
        raise ConfigError(_problems(err, prefix)) from None
    lenient = _lenient(raw, model.model_dump(), "")
    if lenient:
        raise ConfigError([(prefix + p, m) for p, m in lenient])
    return model


def load_config(source: str | Path | dict, overrides: dict[str, Any] | None = None):
    """Read, override and validate a config.

    Returns
    -------
    raw : dict
        The config as a plain dict after overrides (what is stored with results).
    config : RunConfig
    """
    raw = read_raw(source)
    for path, value in (overrides or {}).items():
        set_path(raw, path, value)
    return raw, validate(raw)


#: Names no sweep dim may take, whatever the analysis.
RESERVED_DIMS = frozenset({"detector", "parameter", "parameter2", "copies", "repetition", "outcome"})


def dim_name(path: str, taken: frozenset[str] = frozenset()) -> str:
    """Result dimension of a swept field: its last path component, or, when that is a result
    name, a reserved name or the last component of another swept field, the whole path joined
    by underscores (``detectors.camera.efficiency`` -> ``camera_efficiency``,
    ``detectors.0.efficiency`` -> ``detector0_efficiency``, ``source.modes`` -> ``source_modes``)."""
    parts = path.split(".")
    if parts[-1] not in taken:
        return parts[-1]
    if parts[0] == "detectors" and len(parts) > 2:
        head = f"detector{parts[1]}" if parts[1].lstrip("-").isdigit() else parts[1]
        return "_".join([head, *parts[2:]])
    return "_".join(parts)


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path of a plain (dumped) config, list items by index or name."""
    node = data
    for depth, key in enumerate(path.split(".")):
        node = node[_step(node, key, ".".join(path.split(".")[: depth + 1]))]
    return node


def expand_sweep(raw: dict, config) -> tuple[dict[str, list[Any]], list[tuple[tuple[int, ...], Any]]]:
    """All sweep points as validated configs.

    Returns
    -------
    dims : dict
        ``{dim name: values}`` in the order of the ``sweep`` mapping.
    points : list of (index tuple, RunConfig)
        The outer product of the swept values, each point validated on its own.
    """
    sweep = config.sweep
    count = math.prod(len(v) for v in sweep.values())
    if count > MAX_POINTS:
        raise ConfigError([("sweep", f"{count} sweep points; at most {MAX_POINTS} per run (split the sweep into several runs)")])
    last = [k.split(".")[-1] for k in sweep]
    taken = RESERVED_DIMS | ANALYSES[config.analysis.kind].result_names() | {n for n in last if last.count(n) > 1}
    names = [dim_name(k, taken) for k in sweep]
    problems = [(f"sweep.{k}", f"two swept fields give the dimension name {n!r}; sweep them in separate runs")
                for k, n in zip(sweep, names) if names.count(n) > 1]
    problems += [(f"sweep.{k}", f"dimension name {n!r} is taken by a result of analysis {config.analysis.kind!r}; "
                  "sweep this field in a separate run") for k, n in zip(sweep, names) if n in taken]
    if problems:
        raise ConfigError(problems)
    base = {k: v for k, v in raw.items() if k != "sweep"}
    points = []
    coordinates: list[list[Any]] = [[None] * len(v) for v in sweep.values()]
    for index in itertools.product(*[range(len(v)) for v in sweep.values()]):
        point = copy.deepcopy(base)
        label = []
        for (path, values), i in zip(sweep.items(), index):
            if path.split(".")[0] in ("sweep", "seed", "copies", "target", "repetitions", "pipeline", "analysis", "name"):
                raise ConfigError([(f"sweep.{path}", "only source and detector fields can be swept")])
            try:
                set_path(point, path, values[i])
            except ConfigError as err:
                raise ConfigError([(f"sweep.{p}", m) for p, m in err.problems]) from None
            label.append(f"{path}={values[i]!r}")
        validated = validate(point, prefix=f"sweep[{', '.join(label)}]: ")
        dumped = validated.model_dump(mode="json")
        for d, (path, i) in enumerate(zip(sweep, index)):  # the coordinate is the validated value (1 -> 1.0, "0.5" -> 0.5)
            coordinates[d][i] = get_path(dumped, path)
        points.append((index, validated))
    for (path, values), coords in zip(sweep.items(), coordinates):
        kinds = {type(c) for c in coords}
        if len(kinds) > 1 or not kinds <= {int, float, str, bool}:
            raise ConfigError([(f"sweep.{path}", f"values must be numbers or names of one type, got {values!r}")])
    return dict(zip(names, coordinates)), points


def check_size(config, points: int, outputs: list[int]) -> int:
    """Refuse runs whose task graph or statistics would exhaust a scheduler's or client's memory.

    Parameters
    ----------
    points : int
        Sweep points.
    outputs : list of int
        Numbers of outputs (statistic entries) of each detector.

    Returns
    -------
    int
        The number of sample tasks.

    Raises
    ------
    ConfigError
        If the run has more than :data:`MAX_TASKS` sample tasks or keeps more than
        :data:`MAX_STATISTICS_BYTES` of statistics.
    """
    p = config.pipeline
    checkpoints = list(config.copies) if config.copies else _target_checkpoints(config.target)
    previous, tasks = 0, 0
    for stop in checkpoints:
        batches = -(-(stop - previous) // p.batch_size)
        tasks += -(-batches // p.batches_per_task)
        previous = stop
    tasks *= -(-config.repetitions // p.repetitions_per_task) * points * len(outputs)
    problems = []
    if tasks > MAX_TASKS:
        problems.append(("pipeline.batch_size", f"the run would have {tasks:.3g} dask tasks (at most {MAX_TASKS:.0e}); "
                         f"raise pipeline.batch_size (now {p.batch_size}) or pipeline.batches_per_task"))
    size = 8 * config.repetitions * len(checkpoints) * points * sum(o + 1 for o in outputs)
    if size > MAX_STATISTICS_BYTES:
        problems.append(("repetitions", f"the run would keep {size / 2**30:.3g} GiB of statistics (at most "
                         f"{MAX_STATISTICS_BYTES / 2**30:.0f} GiB: repetitions x copies checkpoints x sweep points x "
                         "detector outputs x 8 bytes); reduce repetitions, copies, the sweep or the pixels"))
    if problems:
        raise ConfigError(problems)
    return tasks


#: Random numbers per second and core the cost estimate assumes for per-copy samplers
#: (numpy draws about 1e8 simple variates per second; samplers reach a fraction of that).
DRAWS_PER_SECOND = 5e7
#: Overhead of one sample task (scheduling, tree sums) in the cost estimate.
TASK_SECONDS = 2e-4
#: Cost of one batch of one repetition (seeding a generator, one exact sufficient-statistic draw).
BATCH_SECONDS = 1e-4


def sampling_cost(config, tasks: int, draws_per_copy: list[list[float]], labels: list[str]) -> float:
    """Estimated core-seconds of a run's sampling, refused above ``pipeline.max_hours``.

    Parameters
    ----------
    tasks : int
        Sample tasks (from :func:`check_size`).
    draws_per_copy : list of list of float
        Per sweep point, per detector: random numbers its sampler draws per copy
        (:meth:`sensing.contracts.detector.OutcomeModel.draws_per_copy`).
    labels : list of str
        Per sweep point, how to name it in a message.

    Raises
    ------
    ConfigError
        If the estimate exceeds ``pipeline.max_hours`` core-hours; the message names the
        costliest sweep point and detector.
    """
    copies = max(config.copies) if config.copies else config.target.max_copies
    per_unit = [(d * copies * config.repetitions, point, index)
                for point, row in enumerate(draws_per_copy) for index, d in enumerate(row)]
    draws = sum(u[0] for u in per_unit)
    batches = -(-copies // config.pipeline.batch_size) * config.repetitions * len(per_unit)
    seconds = draws / DRAWS_PER_SECOND + batches * BATCH_SECONDS + tasks * TASK_SECONDS
    limit = config.pipeline.max_hours
    if seconds > limit * 3600:
        worst, point, index = max(per_unit)
        where = labels[point] + f"detector {config.detectors[index].name!r}" if per_unit else ""
        raise ConfigError([("pipeline.max_hours", (
            f"the run would take about {seconds / 3600:.3g} core-hours of sampling (about {draws:.3g} random draws at "
            f"{DRAWS_PER_SECOND:.0e} per second, the costliest being {where} with {worst:.3g}, plus {batches:.3g} batch "
            f"draws at {BATCH_SECONDS * 1e6:.0f} us each), more than pipeline.max_hours = {limit:g}; reduce copies or "
            "repetitions, raise pipeline.batch_size, or raise pipeline.max_hours to allow it"))])
    return seconds


def checkpoints_for(initial: int, maximum: int) -> list[int]:
    """``initial, 2 initial, 4 initial, ... < maximum``, then ``maximum``."""
    out = []
    copies = initial
    while copies < maximum:
        out.append(copies)
        copies *= 2
    return out + [maximum]


def _target_checkpoints(target) -> list[int]:
    return checkpoints_for(target.initial_copies, target.max_copies)
