import numpy as np

from socialsim.agents.sampling_columns import CodedColumn, TupleColumn


def test_first_rows_are_the_first_row_holding_each_value():
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 6, 200)
    coded = CodedColumn.of(codes, list("abcdefgh"))  # g and h never occur
    expected = [int(np.flatnonzero(codes == c)[0]) for c in range(6)]
    assert coded.first_rows() == expected
    picks = rng.integers(-1, 9, size=(300, 3))  # -1: the row's tuple ended
    picks[:, 0] = rng.integers(0, 9, 300)
    picks[picks == 7] = 8  # option 7 never held
    tuples = TupleColumn.of(picks, [f"o{j}" for j in range(10)])
    held = [[j for j in row if j >= 0] for row in tuples.rows[tuples.codes].tolist()]
    expected = [next(i for i, row in enumerate(held) if j in row) for j in (0, 1, 2, 3, 4, 5, 6, 8)]
    assert tuples.first_rows() == expected
    assert held == [[j for j in row if j >= 0] for row in picks.tolist()]
