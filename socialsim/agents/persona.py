"""The personas of a population, kept compact: :class:`PersonaStore`.

The persona profile itself (:class:`~socialsim.core.persona.Persona`) is a shared noun in
``socialsim.core``; it is named here too, where earlier versions defined it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from socialsim.core.persona import BigFive, Leaning, Persona

__all__ = ["BigFive", "Leaning", "Persona", "PersonaStore"]


class PersonaStore:
    """Personas kept as compressed JSON bytes and rebuilt on demand.

    Large rule-policy populations only touch a few personas after set-up. Each persona is
    deflated against a dictionary made of the first few personas' JSON (field names and
    common values), which takes a 740-byte persona to about 240 bytes in some 20 us.
    (Sampled populations use the more compact :class:`~socialsim.agents.sampling.SampledPersonas`.)
    """

    _DICT_SAMPLE = 16
    _WBITS = 12  # a 4 KB window: a small dictionary keeps making a compressor cheap

    def __init__(self, personas: Iterable[Persona]) -> None:
        self._blobs: list[bytes] = []
        self._zdict = b""
        first: list[bytes] = []
        for persona in personas:  # one persona alive at a time
            blob = persona.__pydantic_serializer__.to_json(persona)
            if len(first) < self._DICT_SAMPLE:
                first.append(blob)
                if len(first) == self._DICT_SAMPLE:
                    self._start(first)
            else:
                self._blobs.append(self._deflate(blob))
        if len(first) < self._DICT_SAMPLE:
            self._start(first)

    def _start(self, first: list[bytes]) -> None:
        """Make the dictionary from the first personas and store them."""
        self._zdict = b"".join(first)[-(1 << self._WBITS) + 262 :]
        self._blobs = [self._deflate(b) for b in first]

    def _deflate(self, blob: bytes) -> bytes:
        packer = zlib.compressobj(6, zlib.DEFLATED, self._WBITS, zdict=self._zdict)
        return packer.compress(blob) + packer.flush()

    def __len__(self) -> int:
        return len(self._blobs)

    def get(self, index: int) -> Persona:
        """A fresh Persona object for this index."""
        unpack = zlib.decompressobj(self._WBITS, zdict=self._zdict)
        blob = unpack.decompress(self._blobs[index]) + unpack.flush()
        return Persona.model_validate_json(blob)
