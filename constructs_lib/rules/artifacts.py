"""Which S3 locations are JumpStart artifacts, and which of those are EULA-gated: decided by the catalog.

An artifact is gated when it sits in JumpStart's gated bucket (``jumpstart-private-cache-prod-<region>``),
whatever its key, or when the catalog marks the model named by a whole segment of its key as gated. Any other
bucket holds the user's own weights (a fine-tuning output, a copy): never gated, whatever the key says.

A JumpStart artifact of a model the catalog does not list (one newer than its snapshot) is never taken as clean.
The catalog's own data decides what it likely is: when every model it knows that shares the unknown id's longest
known id prefix (``meta-textgeneration-llama``, ``huggingface-llm-gemma``, ``meta``) is gated, the artifact is
treated as gated (an error without acceptance); otherwise acceptance is asked for with a warning. DeepSeek's
Llama distillations (``deepseek-llm-r1-distill-llama-*``) are not gated, so no word in an id decides alone.
"""

import functools
import weakref
from typing import Any, NamedTuple

from constructs_lib.catalog import GATED_BUCKET_PREFIX, PUBLIC_BUCKET_PREFIX, Catalog, ModelSpec
from constructs_lib.catalog.catalog import TARBALL_PREFIXES
from constructs_lib.patterns import compile_on_use
from constructs_lib.rules.detection.locations import unknown_location_doubt
from constructs_lib.rules.evaluation.reader import Reader
from constructs_lib.rules.evaluation.values import REGION, TemplateContext, has_tokens
from constructs_lib.rules.finding import Severity

_REGION_NAME = compile_on_use(r"[a-z]{2}(?:-[a-z]+)+-\d")
_ECR_REGION = compile_on_use(r"\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-\d)\.")
_MODEL_ID = compile_on_use(r"[a-z0-9]+(?:-[a-zA-Z0-9]+)+")
_AUTOPILOT_NAME_PART = compile_on_use(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+|[0-9]+")
_UNJUDGED: Any = object()  # a location not looked at yet (``None`` is a verdict: not a JumpStart artifact)
REFRESH_ADVICE = "`eulagate models refresh` updates it"
UNKNOWN_GATING = "the catalog cannot tell whether it is EULA-gated, so acceptance must be shown"


class Artifact(NamedTuple):  # a NamedTuple: cheaper to define at start-up than a dataclass
    """A JumpStart artifact location found in a template."""

    uri: str  # as a person reads it: unknown parts shown as ${...}
    gated_bucket: bool
    model: ModelSpec | None
    region: str | None  # the literal region of the bucket, when the template gives one
    unknown_model: str | None = None  # the model id its key names, when the catalog does not list it
    gated_family: str | None = None  # for an unknown model: the id prefix whose every known model is gated
    catalog_note: str = ""  # for an unknown model: which catalog does not list it
    doubt: str | None = None  # why a location unknown before deployment may be gated (rules/detection/locations.py)

    @property
    def gated(self) -> bool:
        return (self.gated_bucket or (self.model is not None and self.model.gated)
                or self.gated_family is not None)

    @property
    def needs_acceptance(self) -> bool:
        """Gated, or a JumpStart model the catalog does not know: either way acceptance must be shown."""
        return (self.gated_bucket or self.unknown_model is not None or self.doubt is not None
                or (self.model is not None and self.model.gated) or self.gated_family is not None)

    @property
    def severity(self) -> Severity:
        return "error" if self.gated else "warning"

    @property
    def lead(self) -> str | None:
        """How a finding on an artifact of an unknown model or location begins (``None``: the engine's usual)."""
        if self.doubt is not None:
            return (f"The location {self.uri} may be an EULA-gated JumpStart artifact ({self.doubt}; acceptance "
                    "cannot be proven)")
        if self.unknown_model is None:
            return None
        why = ("it is in JumpStart's EULA-gated bucket" if self.gated_bucket else
               f"every {self.gated_family}-* model the catalog knows is EULA-gated, so it is treated as gated"
               if self.gated_family else UNKNOWN_GATING)
        return (f"The artifact {self.uri} is of {self.unknown_model}, a JumpStart model that {self.catalog_note} "
                f"does not list ({REFRESH_ADVICE}); {why}")


def s3_location(text: str) -> tuple[str, str] | None:
    """``(bucket, key)`` of an ``s3://`` URI or an S3 ``https://`` URL (virtual-hosted or path style).

    Schemes and host names are case-insensitive (RFC 3986), and a host may carry a port.
    """
    scheme, separator, rest = text.partition("://")
    if not separator:
        return None
    scheme = scheme.lower()
    if scheme == "s3":
        bucket, _, key = rest.partition("/")
        return bucket, key
    if scheme == "https":
        host, _, path = rest.partition("/")
        host = host.partition(":")[0].lower()
        if host.startswith(("s3.", "s3-")):
            bucket, _, key = path.partition("/")
            return bucket, key
        for marker in (".s3.", ".s3-"):
            index = host.find(marker)
            if index > 0:
                return host[:index], path
    return None


def literal_region(text: str | None) -> str | None:
    return text if text and _REGION_NAME.fullmatch(text) else None


def image_region(reader: Reader, image: Any) -> str | None:
    """The region of an ECR image URI (``<account>.dkr.ecr.<region>.amazonaws.com/...``), when literal."""
    text = reader.render(image)
    match = _ECR_REGION.search(text) if text else None
    return match.group(1) if match else None


class CatalogIndex:
    """Look-ups the rules need beyond ``Catalog``'s own: any-case names, region-neutral package ARNs."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # Literal locations recur across a template's models and stacks: classify each once.
        self._literal_artifacts: dict[str, Artifact | None] = {}
        self._artifacts_with_unknowns: weakref.WeakKeyDictionary[TemplateContext, dict[str, Artifact | None]] = (
            weakref.WeakKeyDictionary())
        # The template read last and its verdicts: a template's locations come one after another, and a weak
        # dictionary's look-up makes a weak reference each time.
        self._last_context: weakref.ref[TemplateContext] | None = None
        self._last_artifacts: dict[str, Artifact | None] = {}
        self.catalog_note = catalog_note(catalog)

    # Built on first use: only a name the catalog does not list exactly (or an unknown model) needs them, and
    # a short check should not pay for them.
    @functools.cached_property
    def _folded(self) -> dict[str, ModelSpec]:
        folded: dict[str, ModelSpec] = {}
        for name in self.catalog.names:
            spec = self.catalog.find(name)
            if spec is not None:
                folded.setdefault(name.lower(), spec)
        return folded

    @functools.cached_property
    def model_families(self) -> "GatingFamilies":
        return GatingFamilies({spec.model_id: spec.gated for spec in self.catalog}, "-")

    @functools.cached_property
    def autopilot_families(self) -> "GatingFamilies":
        return GatingFamilies({spec.base_model_name: spec.gated for spec in self.catalog if spec.base_model_name},
                              None)

    def model_named(self, name: str) -> ModelSpec | None:
        """A JumpStart model id or Autopilot BaseModelName, exactly or in any letter case."""
        return self.catalog.find(name) or self._folded.get(name.lower())

    def artifact(self, reader: Reader, value: Any) -> Artifact | None:
        """The JumpStart artifact a location value names (a gated candidate first), or ``None``."""
        text = reader.render(value)
        if not text:
            return None
        if not has_tokens(text):
            # A text judged before names JumpStart (only such are kept): looked up before the lower-case copy.
            artifact = self._literal_artifacts.get(text, _UNJUDGED)
            if artifact is _UNJUDGED:
                if "jumpstart-" not in text.lower():  # most locations: the user's own (host names in any case)
                    return None
                artifact = self._literal_artifacts[text] = self._classify(reader, text, literal=True)
            return artifact
        # The verdict depends on the template (its parameters and mappings) and the text only: once per template.
        context = reader.context
        if self._last_context is not None and self._last_context() is context:
            by_text = self._last_artifacts
        else:
            by_text = self._artifacts_with_unknowns.setdefault(context, {})
            self._last_context, self._last_artifacts = weakref.ref(context), by_text
        artifact = by_text.get(text, _UNJUDGED)
        if artifact is _UNJUDGED:
            artifact = by_text[text] = self._judge_with_unknowns(reader, text)
        return artifact

    def _judge_with_unknowns(self, reader: Reader, text: str) -> Artifact | None:
        first: Artifact | None = None
        doubt: str | None = None
        for candidate in reader.context.expand(text):
            # A region filled in from a parameter's default or a mapping is a guess, not the template's region.
            artifact = self._classify(reader, candidate, literal=candidate == text)
            if artifact is not None and artifact.gated:
                return artifact
            if artifact is not None and (first is None or artifact.needs_acceptance > first.needs_acceptance):
                first = artifact
            doubt = doubt or unknown_location_doubt(reader.context, candidate, artifact)
        if doubt is not None and (first is None or not first.needs_acceptance):
            return Artifact(reader.context.display(text), False, None, None, doubt=doubt)
        return first

    def _classify(self, reader: Reader, text: str, *, literal: bool) -> Artifact | None:
        location = s3_location(text)
        if location is None:
            return None
        bucket, key = location
        if bucket.startswith(GATED_BUCKET_PREFIX):
            gated_bucket, suffix = True, bucket[len(GATED_BUCKET_PREFIX):]
        elif bucket.startswith(PUBLIC_BUCKET_PREFIX):
            gated_bucket, suffix = False, bucket[len(PUBLIC_BUCKET_PREFIX):]
        else:
            return None
        # JumpStart's buckets end in a region: jumpstart-private-cache-prod-us-east-1-copy (or ${AWS::Region}-copy)
        # is a bucket of the user's. A suffix with another unknown may be a region.
        regional = suffix.replace(REGION, "us-east-1")
        if not has_tokens(regional) and _REGION_NAME.fullmatch(regional) is None:
            return None
        region = literal_region(suffix) if literal else None
        model = self.catalog.model_in_s3_key(key)
        unknown = None if model is not None else model_id_in_key(key)
        return Artifact(reader.context.display(text), gated_bucket, model, region, unknown,
                        self.model_families.gated_family(unknown) if unknown else None,
                        self.catalog_note if unknown else "")


class GatingFamilies:
    """What the catalog's names say about a name it does not list: the longest name prefix (in whole parts)
    that known names share with it, and whether every known name with that prefix is gated."""

    def __init__(self, gated_by_name: dict[str, bool], separator: str | None) -> None:
        self._separator = separator
        self._all_gated: dict[tuple[str, ...], bool] = {}
        for name, gated in gated_by_name.items():
            parts = self._parts(name)
            for length in range(1, len(parts) + 1):
                prefix = parts[:length]
                self._all_gated[prefix] = self._all_gated.get(prefix, True) and gated

    def _parts(self, name: str) -> tuple[str, ...]:
        if self._separator is not None:
            return tuple(name.split(self._separator))
        return tuple(_AUTOPILOT_NAME_PART.findall(name))

    def gated_family(self, name: str) -> str | None:
        """The shared prefix (``meta-textgeneration-llama``) when all its known names are gated, else ``None``."""
        parts = self._parts(name)
        for length in range(len(parts), 0, -1):
            all_gated = self._all_gated.get(parts[:length])
            if all_gated is not None:
                joined = (self._separator or "").join(parts[:length])
                return joined if all_gated else None
        return None


def model_id_in_key(key: str) -> str | None:
    """The model id a JumpStart key names by its layout: ``<folder>/<id>/artifacts/...`` or a tarball
    ``train-<id>.tar.gz``/``infer-<id>.tar.gz``/``infer-prepack-<id>.tar.gz``. ``None`` for other content
    (datasets, EULA texts, training scripts), which is not a model."""
    segments = key.split("/")
    for index, segment in enumerate(segments):
        if segment == "artifacts" and index > 0 and _MODEL_ID.fullmatch(segments[index - 1]):
            return segments[index - 1]
        if segment.endswith(".tar.gz"):
            name = segment.removesuffix(".tar.gz")
            for prefix in TARBALL_PREFIXES:
                if name.startswith(prefix) and _MODEL_ID.fullmatch(name[len(prefix):]):
                    return name[len(prefix):]
    return None


def catalog_note(catalog: Catalog) -> str:
    """How findings name the catalog: with its snapshot date when it records one (``Catalog.snapshot``)."""
    date = getattr(getattr(catalog, "snapshot", None), "date", None)
    return f"the catalog (snapshot of {date})" if date else "the catalog"


_INDEXES: weakref.WeakKeyDictionary[Catalog, CatalogIndex] = weakref.WeakKeyDictionary()


def catalog_index(catalog: Catalog) -> CatalogIndex:
    index = _INDEXES.get(catalog)
    if index is None:
        index = _INDEXES[catalog] = CatalogIndex(catalog)
    return index
