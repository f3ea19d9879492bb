"""What the converter offers, declared without importing it: the variants it can make (what each is, whether it
fine-tunes, which options its bytes depend on), the options, the pixel scalings. Standard library only, so the
CLI can list them (in ``--help`` and in its checks) without loading numpy or TensorFlow;
``converter/recipes.py`` and ``converter/source.py`` implement exactly these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from edgebench_records.options import OptionSpec, as_flags, declared, option

NORMALISATIONS = ("raw", "unit", "symmetric")  # image folders: 0..255, 0..1, -1..1
# What the outputs mean, which decides how labels are scored: "auto" guesses from the outputs' shapes;
# "other" (detection boxes, masks, embeddings…) is compared with the fp32 reference only.
TASKS = ("auto", "classification", "regression", "other")
# Fine-tuning losses: "auto" takes the model's own compiled loss when it was saved with one, else one that
# fits its outputs (class ids: sparse categorical cross-entropy; anything else: mean squared error).
LOSSES = ("auto", "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mse", "mae")


@dataclass(frozen=True)
class Options:
    """The conversion options, one declaration each (``edgebench_records.options``), in ``--help``'s order."""

    sparsity: float = option(0.5, above=0, below=1, help="Target sparsity of pruned variants.")
    clusters: int = option(16, at_least=2, help="Clusters per weight tensor for clustered variants.")
    epochs: int = option(3, at_least=1, help="Fine-tuning epochs for pruned, clustered and QAT variants.")
    learning_rate: float = option(
        1e-4, flag="--lr", aliases=("--learning-rate",), above=0, help="Fine-tuning learning rate."
    )
    batch_size: int = option(32, at_least=1, help="Fine-tuning and calibration batch size.")
    float_io: bool = option(False, help="Full-integer variants keep float32 inputs and outputs.")
    keep_sparsity: bool = option(False, help="Store pruned_int8 sparse (EXPERIMENTAL_SPARSITY).")
    task: str = option(
        "auto",
        choices=TASKS,
        help="What the outputs mean, which decides how labels are scored (auto: guessed from the outputs).",
    )
    loss: str = option(
        "auto",
        choices=LOSSES,
        help="Fine-tuning loss (auto: the model's own compiled loss, else one that fits its outputs).",
    )
    input_shapes: tuple[str, ...] = option(
        (),
        flag="--input-shape",
        metavar="NAME:1x224x224x3",
        data=True,
        help="The shape to use for an input with a dynamic dimension; repeatable, once per input.",
    )
    synthetic_samples: int = option(
        32,
        at_least=1,
        data=True,
        help="Without --data: how many seeded synthetic inputs are made from the model's input tensors.",
    )
    normalize: str = option(
        "raw",
        choices=NORMALISATIONS,
        data=True,
        help="Pixel scaling for image-folder data: raw 0..255, unit 0..1, symmetric -1..1.",
    )
    val_split: float = option(0.2, above=0, below=1, data=True, help="Share of each image class kept for validation.")
    seed: int = option(0, data=True, help="Same seed, same bytes.")  # also the calibration samples' order
    channel_ratio: float = option(
        0.55, above=0, at_most=1, help="Share of the channels (filters) channel-pruned variants keep."
    )
    stream_ratio: float = option(
        1.0,
        above=0,
        at_most=1,
        help="Share of a residual stream's channels (tied across its Adds) channel pruning keeps; 1: kept whole.",
    )
    distill_temperature: float = option(
        4.0,
        above=0,
        help="Distillation temperature: how much the teacher's outputs are softened (channel_pruned, distilled).",
    )
    distill_alpha: float = option(
        0.5,
        at_least=0,
        at_most=1,
        help="Distillation: weight of the hard-label loss; 1 - alpha goes to the teacher's soft targets.",
    )
    low_rank_energy: float = option(
        0.9, above=0, at_most=1, help="Share of the singular-value energy low_rank keeps in each factorised kernel."
    )
    recovery_factor: int = option(
        20,
        at_least=1,
        help="A structural change (channel_pruned, low_rank, distilled) recovers for this many × --epochs, from "
        "10× --lr decaying to 0.",
    )
    student: str = option(  # "": not given (the distilled variants are then not applicable)
        "",
        metavar="PATH",
        file=True,
        help="A Keras model (.keras/.h5) with the model's input and output shapes: the distilled variants train it "
        "from the model as teacher (without it they are not applicable).",
    )
    mixed_float_layers: int = option(
        0,
        at_least=0,
        metavar="N",
        help="mixed_int8: how many of the layers that add the most int8 error stay float32; 0: the fewest (up to "
        "8) that keep top-1 within --max-accuracy-drop (labelled data), else that halve full int8's output error.",
    )
    max_accuracy_drop: float | None = option(
        None,
        at_least=0,
        metavar="POINTS",
        help="Accuracy a variant may lose against float32, in points: mixed_int8 (--mixed-float-layers 0, labelled "
        "data) keeps top-1 within it, and tune's candidates are held to it (there it defaults to 1).",
    )
    # The three below decide how a Keras model (and --student) loads and converts: every variant depends on them.
    custom_objects: str = option(
        "",
        metavar="PATH|MODULE",
        data=True,
        file=True,
        help="A .py file or importable module defining the Keras model's custom classes, registered before it "
        "loads: its CUSTOM_OBJECTS dict if it has one, else every Keras layer class it defines.",
    )
    trust_model_code: bool = option(
        False,
        data=True,
        help="Load Keras Lambda layers, whose Python code runs as the model loads (refused in safe mode "
        "otherwise): only for a model you trust.",
    )
    free_batch: bool = option(
        False,
        data=True,
        help="Convert Keras models with a free batch axis instead of batch 1 (recurrent layers need batch 1).",
    )

    def as_flags(self) -> list[str]:
        """The converter process's command-line flags for these options."""
        return as_flags(self)


# Options that change the data (which inputs, how scaled, the calibration order) or how the model loads and
# converts: every variant reads them.
DATA_OPTIONS = frozenset(spec.name for spec in declared(Options) if spec.data)
# What any fine-tuning reads: the schedule, and the task and loss that decide its targets.
TUNING = frozenset({"epochs", "learning_rate", "batch_size", "task", "loss"})
INT8_IO = frozenset({"float_io"})
RECOVERING = TUNING | {"recovery_factor"}  # the structural variants: a new shape learns again, for longer
CHANNELS = RECOVERING | {"channel_ratio", "stream_ratio", "distill_temperature", "distill_alpha"}
STUDENT = RECOVERING | {"student", "distill_temperature", "distill_alpha"}


class Effect(StrEnum):
    """What a searched setting does to the model the device runs: what lets a tune skip a candidate that cannot
    beat what it has (edgebench/tune/search.py)."""

    WIDTH = "width"  # a higher value keeps more of the model (channels, streams, rank): never smaller, nor faster
    TRAINING = "training"  # how the model recovers: the same layers and shapes whatever the value
    OTHER = "other"  # anything else (sparsity, clusters, the float layers' count): nothing is assumed


@dataclass(frozen=True)
class SearchRange:
    """One option a recipe's settings may take in `edgebench tune`: ``low`` to ``high`` by ``step`` (or spread
    evenly on a log scale, for counts like clusters). ``short`` names it in a candidate's name: a share (a float
    option) in percent, a count as it is (``pruned_int8-s70``, ``clustered_int8-k8``)."""

    option: str  # an Options field the recipe reads
    low: float
    high: float
    step: float = 1.0
    short: str = ""
    says: str = ""  # the setting in a sentence, {} its value as in the name: "{} % sparsity"
    log: bool = False  # counts: 4, 8, 16, 32 are as far apart as it matters
    effect: Effect = Effect.OTHER


SPARSITY = SearchRange("sparsity", 0.3, 0.9, 0.05, "s", "{} % sparsity")
CLUSTER_COUNT = SearchRange("clusters", 4, 64, short="k", says="{} clusters", log=True)
CHANNEL_SHARE = SearchRange("channel_ratio", 0.3, 1.0, 0.05, "c", "{} % of the channels", effect=Effect.WIDTH)
STREAM_SHARE = SearchRange("stream_ratio", 0.5, 1.0, 0.05, "r", "{} % of the residual streams", effect=Effect.WIDTH)
# More energy kept is a higher rank, or a layer left whole where factorising it would not make it smaller: wider
LOW_RANK_ENERGY = SearchRange(
    "low_rank_energy", 0.5, 0.98, 0.02, "e", "{} % of the kernels' energy", effect=Effect.WIDTH
)
# Longer recovery is what keeps a narrower model within the drop, at as much longer a conversion: the bundled
# example kept to 40 % of its channels lost 1.7 points recovering over 20 × one epoch, 0.8 over 40 (docs/tune.md).
RECOVERY = SearchRange("recovery_factor", 20, 60, 20, "x", "recovery over {} × --epochs", effect=Effect.TRAINING)
# 0 would let the converter choose; a search sets the count itself, up to the converter's cap (converter/mixed.py)
MIXED_FLOAT_LAYERS = SearchRange("mixed_float_layers", 1, 8, short="f", says="{} layers kept in float")


@dataclass(frozen=True)
class VariantSpec:
    """A variant as the CLI lists it; ``converter/recipes.py`` says how it is made."""

    name: str
    summary: str  # one line
    trains: bool = False  # fine-tunes: needs a Keras model and labelled training data
    # The options its bytes depend on besides DATA_OPTIONS: a variant is made again only when one of these (or
    # the data) changes (the converter's per-variant cache); a --student no variant made reads is said unused.
    reads: frozenset[str] = frozenset()
    # What `edgebench tune` may vary, each an option it reads; () a candidate as it is (a quantisation scheme);
    # None: never a candidate (fp32 is the baseline; the distilled variants need a --student of the user's).
    search: tuple[SearchRange, ...] | None = ()


# In the order `edgebench convert` makes and lists them.
CATALOGUE = (
    VariantSpec("fp32", "float32, no optimisation", search=None),
    VariantSpec("fp16", "float16 weights"),
    VariantSpec("dynamic_int8", "dynamic-range int8: int8 weights, float activations"),
    VariantSpec("weight_int8", "weight-only int8, de-quantised at load"),
    VariantSpec("int8", "full-integer int8, calibrated", reads=INT8_IO),
    VariantSpec(
        "mixed_int8",
        "full-integer int8 but for the layers that add the most int8 error, kept float32",
        reads=INT8_IO | {"mixed_float_layers", "max_accuracy_drop", "task"},  # task: how its drop is scored
        search=(MIXED_FLOAT_LAYERS,),
    ),
    VariantSpec(
        "pruned", "magnitude-pruned (--sparsity), fine-tuned; float32", True, TUNING | {"sparsity"}, (SPARSITY,)
    ),
    VariantSpec(
        "pruned_int8",
        "magnitude-pruned, fine-tuned; full-integer int8",
        True,
        TUNING | INT8_IO | {"sparsity", "keep_sparsity"},
        (SPARSITY,),
    ),
    VariantSpec("pruned_2x4", "structured 2:4 pruning, fine-tuned; float32", True, TUNING),
    VariantSpec(
        "clustered",
        "weights clustered (--clusters), fine-tuned; float32",
        True,
        TUNING | {"clusters"},
        (CLUSTER_COUNT,),
    ),
    VariantSpec(
        "clustered_int8",
        "weights clustered, fine-tuned; full-integer int8",
        True,
        TUNING | INT8_IO | {"clusters"},
        (CLUSTER_COUNT,),
    ),
    VariantSpec("qat_int8", "quantisation-aware training; int8", True, TUNING | INT8_IO),
    VariantSpec(
        "pqat_int8", "pruned, then QAT keeping the zeros; int8", True, TUNING | INT8_IO | {"sparsity"}, (SPARSITY,)
    ),
    VariantSpec(
        "cqat_int8",
        "clustered, then QAT keeping the clusters; int8",
        True,
        TUNING | INT8_IO | {"clusters"},
        (CLUSTER_COUNT,),
    ),
    VariantSpec(
        "pruned_clustered_int8",
        "pruned, then clustered keeping the zeros; int8",
        True,
        TUNING | INT8_IO | {"sparsity", "clusters"},
        (SPARSITY, CLUSTER_COUNT),
    ),
    VariantSpec(
        "pcqat_int8",
        "pruned, clustered, then QAT keeping both; int8",
        True,
        TUNING | INT8_IO | {"sparsity", "clusters"},
        (SPARSITY, CLUSTER_COUNT),
    ),
    VariantSpec(
        "channel_pruned",
        "filters removed (a smaller dense model), distilled; float32",
        True,
        CHANNELS,
        (CHANNEL_SHARE, STREAM_SHARE, RECOVERY),
    ),
    VariantSpec(
        "channel_pruned_int8",
        "filters removed, distilled; full-integer int8",
        True,
        CHANNELS | INT8_IO,
        (CHANNEL_SHARE, STREAM_SHARE, RECOVERY),
    ),
    VariantSpec(
        "low_rank",
        "kernels factorised by truncated SVD, fine-tuned; float32",
        True,
        RECOVERING | {"low_rank_energy"},
        (LOW_RANK_ENERGY, RECOVERY),
    ),
    VariantSpec("distilled", "the --student model distilled from the source; float32", True, STUDENT, None),
    VariantSpec("distilled_int8", "the --student model distilled; full-integer int8", True, STUDENT | INT8_IO, None),
)
VARIANTS = tuple(spec.name for spec in CATALOGUE)
VARIANT_SPECS = {spec.name: spec for spec in CATALOGUE}
FINE_TUNED = frozenset(spec.name for spec in CATALOGUE if spec.trains)
_UNDECLARED = {name for spec in CATALOGUE for name in spec.reads} - {spec.name for spec in declared(Options)}
if _UNDECLARED:  # a recipe reading an option that is not one would never be made again when it changes
    raise ImportError(f"the catalogue's variants read {', '.join(sorted(_UNDECLARED))}, which no option declares")

_UNREAD_RANGES = [(s.name, r.option) for s in CATALOGUE for r in s.search or () if r.option not in s.reads]
if _UNREAD_RANGES:  # a search varying an option its recipe does not read would measure one variant many times
    raise ImportError(f"variant {_UNREAD_RANGES[0][0]} searches {_UNREAD_RANGES[0][1]}, which it does not read")
# The recipes `edgebench tune` may search, in the catalogue's order.
SEARCHABLE = tuple(spec.name for spec in CATALOGUE if spec.search is not None)

# Options only some variants read (every fine-tuning reads TUNING): given with none of those variants asked for,
# they change nothing, which is said (never silently ignored) and keeps them out of the conversion's cache key.
VARIANT_OPTIONS = frozenset({name for spec in CATALOGUE for name in spec.reads} - TUNING)


def unread_options(variants: list[str]) -> frozenset[str]:
    """The variant options none of ``variants`` reads: whatever their values, those variants come out the same."""
    read = {name for variant in variants if variant in VARIANT_SPECS for name in VARIANT_SPECS[variant].reads}
    return VARIANT_OPTIONS - read


def unused_options(options: Options, variants: list[str]) -> list[OptionSpec]:
    """The variant options given a value of their own that none of ``variants`` reads."""
    unread = unread_options(variants)
    return [spec for spec in declared(Options) if spec.name in unread and getattr(options, spec.name) != spec.default]


def unused_notes(options: Options, variants: list[str]) -> list[str]:
    """One note per unused variant option, naming the flag and the variants that would read it."""
    notes = []
    for spec in unused_options(options, variants):
        value = getattr(options, spec.name)
        given = spec.flags[0] if value is True else f"{spec.flags[0]} {value}"
        readers = ", ".join(v.name for v in CATALOGUE if spec.name in v.reads)
        notes.append(f"{given} is not used: no variant in --variants reads it (only {readers})")
    return notes
