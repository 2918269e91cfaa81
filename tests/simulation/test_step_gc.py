"""A step's garbage-collector settings: what it kept joins the oldest generation unscanned."""

import gc

from socialsim.simulation.llm_batch import fewer_collections


def test_what_a_step_kept_ends_in_the_oldest_generation_and_the_thresholds_come_back():
    if gc.get_freeze_count():
        gc.unfreeze()
    before = gc.get_threshold()
    with fewer_collections(first=50_000):
        kept = [[i] for i in range(2_000)]  # tracked objects made during the step
        assert gc.get_freeze_count() > 0  # what lived before is frozen meanwhile
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    young = {id(o) for o in gc.get_objects(generation=0)} | {
        id(o) for o in gc.get_objects(generation=1)
    }
    assert not any(id(o) in young for o in kept)
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(o) in oldest for o in kept)
    garbage = []
    with fewer_collections(first=50_000):
        cycle = [garbage]
        garbage.append(cycle)
    del cycle, garbage
    assert gc.collect() >= 2  # a cycle made during a step is still found by a full collection
