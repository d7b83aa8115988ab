# Excerpt of gunicorn 27.0.1, gunicorn/http/message.py (lines 1-101, 122-158, 296-408, 497-548, 708-737),
# MIT licence: see tests/codescan/corpus/LICENSES.md (gunicorn).
# Trimmed for the cfgctl scan-code corpus, otherwise unchanged: "# [...]" marks left-out lines.
#
# This file is part of gunicorn released under the MIT license.
# See the NOTICE for more information.

from enum import IntEnum
import ipaddress
import re
import socket
import struct

from gunicorn.http.body import ChunkedReader, LengthReader, EOFReader, Body
from gunicorn.http.errors import (
    InvalidHeader, InvalidHeaderName, NoMoreData,
    InvalidRequestLine, InvalidRequestMethod, InvalidHTTPVersion,
    LimitRequestLine, LimitRequestHeaders,
    UnsupportedTransferCoding, ObsoleteFolding,
    ExpectationFailed,
)
from gunicorn.http.errors import InvalidProxyLine, InvalidProxyHeader, ForbiddenProxyRequest
from gunicorn.http.errors import InvalidSchemeHeaders
from gunicorn.util import bytes_to_str, split_request_uri


# Fast parser availability (cached at module level)
_fast_parser_available = None
_fast_parser_module = None

# Compatibility flags not supported by the fast parser
_FAST_PARSER_INCOMPATIBLE_FLAGS = (
    'permit_obsolete_folding',
    'strip_header_spaces',
)


def _check_fast_parser(cfg):
    """Check if fast C parser is available and should be used.

    Returns False if:
    - http_parser='python' is explicitly set
    - gunicorn_h1c is not installed (in 'auto' mode)
    - gunicorn_h1c < 0.4.1 (in 'auto' mode)
    - Incompatible compatibility flags are enabled (in 'auto' mode)

    Raises RuntimeError if:
    - http_parser='fast' but gunicorn_h1c is not installed
    - http_parser='fast' but gunicorn_h1c < 0.4.1
    - http_parser='fast' but incompatible flags are enabled
    """
    global _fast_parser_available, _fast_parser_module  # pylint: disable=global-statement

    parser_setting = getattr(cfg, 'http_parser', 'auto')
    if parser_setting == 'python':
        return False

    if _fast_parser_available is None:
        try:
            import gunicorn_h1c
            _fast_parser_available = True
            _fast_parser_module = gunicorn_h1c
        except ImportError:
            _fast_parser_available = False

    if not _fast_parser_available and parser_setting == 'fast':
        raise RuntimeError("gunicorn_h1c not installed but http_parser='fast'")

    if not _fast_parser_available:
        return False

    # Require >= 0.4.1 for limit enforcement
    if not hasattr(_fast_parser_module, 'LimitRequestLine'):
        if parser_setting == 'fast':
            raise RuntimeError(
                "gunicorn_h1c >= 0.4.1 required for http_parser='fast'. "
                "Please upgrade: pip install --upgrade gunicorn_h1c"
            )
        # In 'auto' mode, fall back to Python parser
        return False

    # Check for incompatible compatibility flags
    incompatible = []
    for flag in _FAST_PARSER_INCOMPATIBLE_FLAGS:
        if getattr(cfg, flag, False):
            incompatible.append(flag)

    if incompatible:
        if parser_setting == 'fast':
            raise RuntimeError(
                "http_parser='fast' is incompatible with compatibility flags: %s. "
                "Use http_parser='python' or disable these flags."
                % ', '.join(incompatible)
            )
        # In 'auto' mode, fall back to Python parser
        return False

    return True


# PROXY protocol v2 constants
PP_V2_SIGNATURE = b"\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"


# [...]

MAX_REQUEST_LINE = 8190
MAX_HEADERS = 32768
DEFAULT_MAX_HEADERFIELD_SIZE = 8190

# verbosely on purpose, avoid backslash ambiguity
RFC9110_5_6_2_TOKEN_SPECIALS = r"!#$%&'*+-.^_`|~"
TOKEN_RE = re.compile(r"[%s0-9a-zA-Z]+" % (re.escape(RFC9110_5_6_2_TOKEN_SPECIALS)))
METHOD_BADCHAR_RE = re.compile("[a-z#]")
# usually 1.0 or 1.1 - RFC9112 permits restricting to single-digit versions
VERSION_RE = re.compile(r"HTTP/(\d)\.(\d)")
# RFC 9110 section 5.5: field-vchar = VCHAR / obs-text; SP and HTAB are the
# only non-VCHAR bytes allowed in a field-value. Anything else in the
# control range (0x00-0x1F except HTAB, plus DEL 0x7F) must be rejected.
RFC9110_5_5_INVALID_AND_DANGEROUS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 9112 section 3.2: the request-target uses the URI grammar of RFC 3986,
# whose characters are printable ASCII (section 2); anything else must be
# percent-encoded (section 2.1). The target is decoded as latin-1, so every
# byte is one character: controls, DEL and 0x80-0xFF are refused.
RFC9112_TARGET_INVALID = re.compile(r"[^\x21-\x7e]")

# RFC 9110 section 6.5.1: fields forbidden in trailers because they alter
# routing, framing, or authentication. Using the uppercased names stored
# by parse_headers.
RFC9110_6_5_1_FORBIDDEN_TRAILER = frozenset((
    "HOST",
    "CONTENT-LENGTH",
    "TRANSFER-ENCODING",
    "TRAILER",
    "AUTHORIZATION",
    "TE",
))

# RFC 9110 section 5.3: fields whose grammar admits only a single member, so a
# second occurrence cannot be merged and makes the message ambiguous.
# CONTENT-LENGTH is deliberately absent: duplicates are already rejected in
# set_body_reader(), which reports them with the request attached.
# [...]
class Message(HeaderPolicy):
    def __init__(self, cfg, unreader, peer_addr):
        self.cfg = cfg
        self.unreader = unreader
        self.peer_addr = peer_addr
        self.remote_addr = peer_addr
        self.version = None
        self.headers = []
        self.trailers = []
        self.body = None
        self.scheme = "https" if cfg.is_ssl else "http"
        self.must_close = False
        self._expected_100_continue = False

        # set headers limits
        self.limit_request_fields = cfg.limit_request_fields
        if (self.limit_request_fields <= 0
                or self.limit_request_fields > MAX_HEADERS):
            self.limit_request_fields = MAX_HEADERS
        self.limit_request_field_size = cfg.limit_request_field_size
        if self.limit_request_field_size <= 0:
            self.limit_request_field_size = DEFAULT_MAX_HEADERFIELD_SIZE

        # set max header buffer size
        max_header_field_size = self.limit_request_field_size or DEFAULT_MAX_HEADERFIELD_SIZE
        self.max_buffer_headers = self.limit_request_fields * \
            (max_header_field_size + 2) + 4

        unused = self.parse(self.unreader)
        self.unreader.unread(unused)
        self.set_body_reader()

    def force_close(self):
        self.must_close = True

    def parse(self, unreader):
        raise NotImplementedError()

    def parse_headers(self, data, from_trailer=False):
        headers = []

        # Split lines on \r\n
        lines = [bytes_to_str(line) for line in data.split(b"\r\n")]

        # handle scheme headers
        scheme_state = [False]
        seen = set()
        if from_trailer:
            # nonsense. either a request is https from the beginning
            #  .. or we are just behind a proxy who does not remove conflicting trailers
            secure_scheme_headers, forwarder_headers = {}, []
        else:
            secure_scheme_headers, forwarder_headers = self._peer_trusted_for_forwarded()

        # Parse headers into key/value pairs paying attention
        # to continuation lines.
        while lines:
            if len(headers) >= self.limit_request_fields:
                raise LimitRequestHeaders("limit request headers fields")

            # Parse initial header name: value pair.
            curr = lines.pop(0)
            header_length = len(curr) + len("\r\n")
            if curr.find(":") <= 0:
                raise InvalidHeader(curr)
            name, value = curr.split(":", 1)
            if self.cfg.strip_header_spaces:
                name = name.rstrip(" \t")
            if not TOKEN_RE.fullmatch(name):
                raise InvalidHeaderName(name)

            # this is still a dangerous place to do this
            #  but it is more correct than doing it before the pattern match:
            # after we entered Unicode wonderland, 8bits could case-shift into ASCII:
            # b"\xDF".decode("latin-1").upper().encode("ascii") == b"SS"
            name = name.upper()

            # RFC 9110 section 6.5.1
            if from_trailer and name in RFC9110_6_5_1_FORBIDDEN_TRAILER:
                raise InvalidHeaderName(name)

            value = [value.strip(" \t")]

            # Consume value continuation lines..
            while lines and lines[0].startswith((" ", "\t")):
                # .. which is obsolete here, and no longer done by default
                if not self.cfg.permit_obsolete_folding:
                    raise ObsoleteFolding(name)
                curr = lines.pop(0)
                header_length += len(curr) + len("\r\n")
                if header_length > self.limit_request_field_size > 0:
                    raise LimitRequestHeaders("limit request headers "
                                              "fields size")
                value.append(curr.strip("\t "))
            value = " ".join(value)

            if RFC9110_5_5_INVALID_AND_DANGEROUS.search(value):
                raise InvalidHeader(name)

            if header_length > self.limit_request_field_size > 0:
                raise LimitRequestHeaders("limit request headers fields size")

            kept = self._apply_header_policy(
                name, value, scheme_state, seen,
                secure_scheme_headers, forwarder_headers,
                from_trailer=from_trailer,
            )
            if kept is None:
                continue
            headers.append(kept)

        return headers

# [...]
class Request(Message):
    def __init__(self, cfg, unreader, peer_addr, req_number=1):
        self.method = None
        self.uri = None
        self.path = None
        self.query = None
        self.fragment = None

        # get max request line size (0 means unlimited per documentation)
        self.limit_request_line = cfg.limit_request_line
        if self.limit_request_line < 0:
            self.limit_request_line = MAX_REQUEST_LINE
        # For fast parser: use large value when unlimited (0), since C parser
        # doesn't support 0 as unlimited. 1MB should be more than enough.
        if self.limit_request_line == 0:
            self._fast_limit_request_line = 1024 * 1024  # 1MB
        elif self.limit_request_line >= MAX_REQUEST_LINE:
            self._fast_limit_request_line = MAX_REQUEST_LINE
            self.limit_request_line = MAX_REQUEST_LINE
        else:
            self._fast_limit_request_line = self.limit_request_line

        self.req_number = req_number
        self.proxy_protocol_info = None

        # Check if fast parser should be used
        self._use_fast = _check_fast_parser(cfg)

        super().__init__(cfg, unreader, peer_addr)

    def get_data(self, unreader, buf, stop=False):
        data = unreader.read()
        if not data:
            if stop:
                raise StopIteration()
            raise NoMoreData(buf.getvalue())
        buf.write(data)

    def parse(self, unreader):
        buf = bytearray()
        self.read_into(unreader, buf, stop=True)

        # Handle proxy protocol if enabled and this is the first request
        mode = self.cfg.proxy_protocol
        if mode != "off" and self.req_number == 1:
            buf = self._handle_proxy_protocol(unreader, buf, mode)

        # Use fast parser if available
        if self._use_fast:
            return self._parse_fast(unreader, buf)

        return self._parse_python(unreader, buf)
# [...]
    def read_line(self, unreader, buf, limit=0):
        """Read a line from buffer, returning (line, remaining_buffer)."""
        data = bytes(buf)

        while True:
            idx = data.find(b"\r\n")
            # RFC 9112 section 2.2: the line ends with CRLF; an LF before it
            # (or with no CRLF yet) is a bare LF, rejected rather than
            # waited on, as by gunicorn_h1c.
            if data.find(b"\n", 0, idx if idx >= 0 else len(data)) >= 0:
                raise InvalidRequestLine("bare LF as line terminator")
            if idx >= 0:
                # check if the request line is too large
                if idx > limit > 0:
                    raise LimitRequestLine(idx, limit)
                break
            if len(data) - 2 > limit > 0:
                raise LimitRequestLine(len(data), limit)
            self.read_into(unreader, buf)
            data = bytes(buf)

        return (data[:idx],  # request line,
                bytearray(data[idx + 2:]))  # residue in the buffer, skip \r\n

    def read_bytes(self, unreader, buf, count):
        """Read exactly count bytes from buffer/unreader."""
        while len(buf) < count:
            self.read_into(unreader, buf)
        return bytes(buf[:count]), bytearray(buf[count:])

# [...]
