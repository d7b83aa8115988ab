# Excerpt of sentry-sdk 2.75.0, sentry_sdk/consts.py (lines 1-108, 1381-1461),
# MIT licence: see tests/codescan/corpus/LICENSES.md (sentry-sdk).
# Trimmed for the cfgctl scan-code corpus, otherwise unchanged: "# [...]" marks left-out lines.
import itertools
from enum import Enum
from typing import TYPE_CHECKING

DEFAULT_MAX_VALUE_LENGTH = None

DEFAULT_MAX_STACK_FRAMES = 100
DEFAULT_ADD_FULL_STACK = False

_SENTRY_HEADER_NAMES = frozenset(("baggage", "sentry-trace"))


# Also needs to be at the top to prevent circular import
class EndpointType(Enum):
    """
    The type of an endpoint. This is an enum, rather than a constant, for historical reasons
    (the old /store endpoint). The enum also preserve future compatibility, in case we ever
    have a new endpoint.
    """

    ENVELOPE = "envelope"
    OTLP_TRACES = "integration/otlp/v1/traces"


class CompressionAlgo(Enum):
    GZIP = "gzip"
    BROTLI = "br"


if TYPE_CHECKING:
    from typing import (
        AbstractSet,
        Any,
        Callable,
        Dict,
        List,
        Optional,
        Sequence,
        Tuple,
        Type,
        Union,
    )

    from typing_extensions import Literal, TypedDict

    import sentry_sdk
    from sentry_sdk._types import (
        BreadcrumbProcessor,
        ContinuousProfilerMode,
        DataCollectionUserOptions,
        Event,
        EventProcessor,
        Hint,
        IgnoreSpansConfig,
        Log,
        Metric,
        ProfilerMode,
        SpanJSON,
        TracesSampler,
        TransactionProcessor,
    )

    # Experiments are feature flags to enable and disable certain unstable SDK
    # functionality. Changing them from the defaults (`None`) in production
    # code is highly discouraged. They are not subject to any stability
    # guarantees such as the ones from semantic versioning.
    Experiments = TypedDict(
        "Experiments",
        {
            "max_spans": Optional[int],
            "max_flags": Optional[int],
            "record_sql_params": Optional[bool],
            "continuous_profiling_auto_start": Optional[bool],
            "continuous_profiling_mode": Optional[ContinuousProfilerMode],
            "otel_powered_performance": Optional[bool],
            "transport_zlib_compression_level": Optional[int],
            "transport_compression_level": Optional[int],
            "transport_compression_algo": Optional[CompressionAlgo],
            "transport_num_pools": Optional[int],
            "transport_http2": Optional[bool],
            "transport_async": Optional[bool],
            "enable_logs": Optional[bool],
            "before_send_log": Optional[Callable[[Log, Hint], Optional[Log]]],
            "enable_metrics": Optional[bool],
            "before_send_metric": Optional[Callable[[Metric, Hint], Optional[Metric]]],
            "trace_lifecycle": Optional[Literal["static", "stream"]],
            "ignore_spans": Optional[IgnoreSpansConfig],
            "before_send_span": Optional[
                Callable[[SpanJSON, Hint], Optional[SpanJSON]]
            ],
            "suppress_asgi_chained_exceptions": Optional[bool],
            "data_collection": Optional[DataCollectionUserOptions],
        },
        total=False,
    )

DEFAULT_QUEUE_SIZE = 100
DEFAULT_MAX_BREADCRUMBS = 100
MATCH_ALL = r".*"

FALSE_VALUES = [
    "false",
    "no",
    "off",
    "n",
    "0",
]

# [...]
class ClientConstructor:
    def __init__(
        self,
        dsn: "Optional[str]" = None,
        *,
        max_breadcrumbs: int = DEFAULT_MAX_BREADCRUMBS,
        release: "Optional[str]" = None,
        environment: "Optional[str]" = None,
        server_name: "Optional[str]" = None,
        shutdown_timeout: float = 2,
        integrations: "Sequence[sentry_sdk.integrations.Integration]" = [],  # noqa: B006
        ignore_spans: "Optional[IgnoreSpansConfig]" = None,
        in_app_include: "List[str]" = [],  # noqa: B006
        in_app_exclude: "List[str]" = [],  # noqa: B006
        default_integrations: bool = True,
        dist: "Optional[str]" = None,
        transport: "Optional[Union[sentry_sdk.transport.Transport, Type[sentry_sdk.transport.Transport], Callable[[Event], None]]]" = None,
        transport_queue_size: int = DEFAULT_QUEUE_SIZE,
        sample_rate: float = 1.0,
        send_default_pii: "Optional[bool]" = None,
        data_collection: "Optional[DataCollectionUserOptions]" = None,
        http_proxy: "Optional[str]" = None,
        https_proxy: "Optional[str]" = None,
        ignore_errors: "Sequence[Union[type, str]]" = [],  # noqa: B006
        max_request_body_size: str = "medium",
        socket_options: "Optional[List[Tuple[int, int, int | bytes]]]" = None,
        keep_alive: "Optional[bool]" = None,
        before_send: "Optional[EventProcessor]" = None,
        before_breadcrumb: "Optional[BreadcrumbProcessor]" = None,
        debug: "Optional[bool]" = None,
        attach_stacktrace: bool = False,
        ca_certs: "Optional[str]" = None,
        propagate_traces: bool = True,
        traces_sample_rate: "Optional[float]" = None,
        trace_lifecycle: "Optional[Literal['static', 'stream']]" = None,
        traces_sampler: "Optional[TracesSampler]" = None,
        profiles_sample_rate: "Optional[float]" = None,
        profiles_sampler: "Optional[TracesSampler]" = None,
        profiler_mode: "Optional[ProfilerMode]" = None,
        profile_lifecycle: 'Literal["manual", "trace"]' = "manual",
        profile_session_sample_rate: "Optional[float]" = None,
        auto_enabling_integrations: bool = True,
        disabled_integrations: "Optional[Sequence[Union[sentry_sdk.integrations.Integration, type[sentry_sdk.integrations.Integration]]]]" = None,
        auto_session_tracking: bool = True,
        send_client_reports: bool = True,
        _experiments: "Experiments" = {},  # noqa: B006
        proxy_headers: "Optional[Dict[str, str]]" = None,
        instrumenter: "Optional[str]" = INSTRUMENTER.SENTRY,
        before_send_transaction: "Optional[TransactionProcessor]" = None,
        project_root: "Optional[str]" = None,
        enable_tracing: "Optional[bool]" = None,
        include_local_variables: "Optional[bool]" = True,
        include_source_context: "Optional[bool]" = True,
        trace_propagation_targets: "Optional[Sequence[str]]" = [  # noqa: B006
            MATCH_ALL
        ],
        functions_to_trace: "Sequence[Dict[str, str]]" = [],  # noqa: B006
        event_scrubber: "Optional[sentry_sdk.scrubber.EventScrubber]" = None,
        max_value_length: "Optional[int]" = DEFAULT_MAX_VALUE_LENGTH,
        enable_backpressure_handling: bool = True,
        error_sampler: "Optional[Callable[[Event, Hint], Union[float, bool]]]" = None,
        enable_db_query_source: bool = True,
        db_query_source_threshold_ms: int = 100,
        enable_http_request_source: bool = True,
        http_request_source_threshold_ms: int = 100,
        spotlight: "Optional[Union[bool, str]]" = None,
        cert_file: "Optional[str]" = None,
        key_file: "Optional[str]" = None,
        custom_repr: "Optional[Callable[..., Optional[str]]]" = None,
        add_full_stack: bool = DEFAULT_ADD_FULL_STACK,
        max_stack_frames: "Optional[int]" = DEFAULT_MAX_STACK_FRAMES,
        enable_logs: bool = False,
        before_send_log: "Optional[Callable[[Log, Hint], Optional[Log]]]" = None,
        trace_ignore_status_codes: "AbstractSet[int]" = frozenset(),
        enable_metrics: bool = True,
        before_send_metric: "Optional[Callable[[Metric, Hint], Optional[Metric]]]" = None,
        before_send_span: "Optional[Callable[[SpanJSON, Hint], Optional[SpanJSON]]]" = None,
        org_id: "Optional[str]" = None,
        strict_trace_continuation: bool = False,
        stream_gen_ai_spans: bool = True,
    ) -> None:
        ...  # [the docstring and body are left out of this excerpt]
