"""HPACK (RFC 7541) for mesh/h2grpc.py: the few literal encodings its requests use,
and a decoder for the header blocks a gRPC server answers with.

The client announces SETTINGS_HEADER_TABLE_SIZE = 0, so the server's encoder never
indexes anything: each response header block decodes on its own, the same bytes to
the same headers. `BlockCache` relies on that to decode each distinct block once (a
call's `grpc-status: 0` trailers are the same bytes every time).
"""

from __future__ import annotations

from collections.abc import Sequence

STATIC_TABLE: tuple[tuple[str, str], ...] = (
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
)
STATIC_INDEX = {name: i + 1 for i, (name, _) in reversed(list(enumerate(STATIC_TABLE)))}

# Bit lengths of the Huffman codes of symbols 0..256 (256 is EOS), RFC 7541 Appendix B.
# The code is canonical: codes are assigned in order of (length, symbol).
_HUFFMAN_LENGTHS = bytes.fromhex(
    "0d171c1c1c1c1c1c1c181e1c1c1e1c1c1c1c1c1c1c1c1e1c1c1c1c1c1c1c1c1c060a0a0c0d06080b0a0a080b"
    "080606060505050606060606060607080f060c0a0d06070707070707070707070707070707070707070707"
    "070807080d130d0e060f05060506050606060507070606060506070605050607070707070f0b0e0d1c1416"
    "14141616161716171717171718171818161718171717171516171617171816151416161717151716161815"
    "161717151516151716171714161616171616171a1a1413161716191a1a1a1b1b1a181913151a1b1b1a1b18"
    "15151a1a1c1b1b1b14181415161515171616191918181a171a1b1a1a1b1b1b1b1b1c1b1b1b1b1b1a1e"
)
_EOS = 256


class HpackError(ValueError):
    """A header block that does not decode (a connection error: COMPRESSION_ERROR)."""


def _huffman_codes() -> list[tuple[int, int]]:
    """(code, bit length) of each symbol, rebuilt from the canonical lengths."""
    order = sorted(range(257), key=lambda s: (_HUFFMAN_LENGTHS[s], s))
    codes: list[tuple[int, int]] = [(0, 0)] * 257
    code, prev = 0, _HUFFMAN_LENGTHS[order[0]]
    for i, sym in enumerate(order):
        length = _HUFFMAN_LENGTHS[sym]
        if i:
            code = (code + 1) << (length - prev)
        prev = length
        codes[sym] = (code, length)
    return codes


def _huffman_machine() -> tuple[list[int], list[int], frozenset[int]]:
    """A decoder reading 4 bits at a time: for (state * 16 + nibble) the next state
    and the symbol completed on the way (-1: none; -2: EOS, an error). No code is
    shorter than 5 bits, so a nibble completes at most one symbol.

    accepting: the states a string may end in: the root, or a run of at most 7 one
    bits from it (padding is the most significant bits of EOS, RFC 7541 5.2)."""
    children: list[list[int]] = [[-1, -1]]  # node -> [child on 0, child on 1]
    leaf: dict[int, int] = {}  # node -> symbol
    for sym, (code, length) in enumerate(_huffman_codes()):
        node = 0
        for bit_at in range(length - 1, -1, -1):
            bit = (code >> bit_at) & 1
            nxt = children[node][bit]
            if nxt < 0:
                nxt = len(children)
                children.append([-1, -1])
                children[node][bit] = nxt
            node = nxt
        leaf[node] = sym
    # Internal nodes only get states; a leaf returns to the root.
    internal = [n for n in range(len(children)) if n not in leaf]
    state_of = {n: i for i, n in enumerate(internal)}
    nxt_state = [0] * (len(internal) * 16)
    emitted = [-1] * (len(internal) * 16)
    for n in internal:
        for nibble in range(16):
            node, out = n, -1
            for bit_at in (3, 2, 1, 0):
                node = children[node][(nibble >> bit_at) & 1]
                if node in leaf:
                    out = -2 if leaf[node] == _EOS else leaf[node]
                    node = 0
            nxt_state[state_of[n] * 16 + nibble] = state_of[node]
            emitted[state_of[n] * 16 + nibble] = out
    accepting = {state_of[0]}
    node = 0
    for _ in range(7):
        node = children[node][1]
        accepting.add(state_of[node])
    return nxt_state, emitted, frozenset(accepting)


_NEXT, _EMIT, _ACCEPTING = _huffman_machine()


def huffman_decode(data: bytes) -> bytes:
    nxt, emit = _NEXT, _EMIT
    out = bytearray()
    state = 0
    for byte in data:
        i = state * 16 + (byte >> 4)
        sym = emit[i]
        if sym >= 0:
            out.append(sym)
        elif sym == -2:
            raise HpackError("EOS in a Huffman-coded string")
        state = nxt[i]
        i = state * 16 + (byte & 0x0F)
        sym = emit[i]
        if sym >= 0:
            out.append(sym)
        elif sym == -2:
            raise HpackError("EOS in a Huffman-coded string")
        state = nxt[i]
    if state not in _ACCEPTING:
        raise HpackError("bad Huffman padding")
    return bytes(out)


# --- encoding (what the client sends: literals, never indexed) ------------------------


def encode_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """An HPACK integer with an N-bit prefix; `first` holds the prefix byte's high bits."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((first | value,))
    out = bytearray((first | limit,))
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def string(data: bytes) -> bytes:
    """A string literal, not Huffman-coded."""
    return encode_int(len(data), 7) + data


def literal(name: str, value: bytes) -> bytes:
    """ "Literal Header Field without Indexing", naming the static table where it can."""
    index = STATIC_INDEX.get(name)
    if index is not None:
        return encode_int(index, 4) + string(value)
    return b"\x00" + string(name.encode("ascii")) + string(value)


# --- decoding -------------------------------------------------------------------------


def _decode_int(block: bytes, pos: int, prefix_bits: int) -> tuple[int, int]:
    limit = (1 << prefix_bits) - 1
    value = block[pos] & limit
    pos += 1
    if value < limit:
        return value, pos
    shift = 0
    while True:
        if pos >= len(block):
            raise HpackError("truncated integer")
        byte = block[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
        if shift > 28:
            raise HpackError("integer too large")


def _decode_str(block: bytes, pos: int) -> tuple[str, int]:
    if pos >= len(block):
        raise HpackError("truncated string")
    huffman = block[pos] & 0x80
    length, pos = _decode_int(block, pos, 7)
    end = pos + length
    if end > len(block):
        raise HpackError("truncated string")
    raw = block[pos:end]
    if huffman:
        raw = huffman_decode(raw)
    return raw.decode("latin-1"), end


class Decoder:
    """One connection's decoder. Its dynamic table may hold at most `max_table_size`
    bytes: what the connection announced as SETTINGS_HEADER_TABLE_SIZE."""

    def __init__(self, max_table_size: int = 0) -> None:
        self.max_table_size = max_table_size
        self._size_limit = max_table_size  # lowered by the peer's size updates
        self._table: list[tuple[str, str]] = []  # newest first
        self._table_size = 0

    @property
    def table_empty(self) -> bool:
        return not self._table

    def _entry(self, index: int) -> tuple[str, str]:
        if 1 <= index <= len(STATIC_TABLE):
            return STATIC_TABLE[index - 1]
        dynamic = index - len(STATIC_TABLE) - 1
        if 0 <= dynamic < len(self._table):
            return self._table[dynamic]
        raise HpackError(f"header index {index} out of range")

    def _add(self, name: str, value: str) -> None:
        size = 32 + len(name) + len(value)
        self._table.insert(0, (name, value))
        self._table_size += size
        self._evict()

    def _evict(self) -> None:
        while self._table_size > self._size_limit and self._table:
            name, value = self._table.pop()
            self._table_size -= 32 + len(name) + len(value)

    def decode(self, block: bytes) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        pos, end = 0, len(block)
        while pos < end:
            byte = block[pos]
            if byte & 0x80:  # indexed field
                index, pos = _decode_int(block, pos, 7)
                if index == 0:
                    raise HpackError("header index 0")
                headers.append(self._entry(index))
                continue
            if byte & 0x40:  # literal, incremental indexing
                index, pos = _decode_int(block, pos, 6)
                indexing = True
            elif byte & 0x20:  # dynamic table size update
                size, pos = _decode_int(block, pos, 5)
                if size > self.max_table_size:
                    raise HpackError(f"table size {size} above the {self.max_table_size} allowed")
                self._size_limit = size
                self._evict()
                continue
            else:  # literal without indexing / never indexed
                index, pos = _decode_int(block, pos, 4)
                indexing = False
            if index:
                name = self._entry(index)[0]
            else:
                name, pos = _decode_str(block, pos)
            value, pos = _decode_str(block, pos)
            headers.append((name, value))
            if indexing:
                self._add(name, value)
        return headers


def header_list_size(headers: Sequence[tuple[str, str]]) -> int:
    """RFC 7540 6.5.2's size of a header list."""
    return sum(32 + len(n) + len(v) for n, v in headers)
