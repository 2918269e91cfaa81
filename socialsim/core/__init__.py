"""The shared nouns every layer uses: errors, validation, safe readers, registries, the network,
messages, claims and the run record. Nothing here imports the rest of socialsim."""
