"""A live dashboard laid out like Mesa's SolaraViz: ``socialsim dashboard CONFIG_OR_RUN_DIR``.

A config is built into a model and stepped in the browser (its main knobs as controls);
a run directory is replayed from its record. Needs the ``dashboard`` extra.
"""
