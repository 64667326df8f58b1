"""The one rule both export targets judge an int8 file by: images, the limit and the noise."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinyconv.export.int8_drop import MAX_INT8_DROP_POINTS, Int8Drop, int8_drop

counts = st.integers(min_value=0, max_value=2_000)


@given(images=st.integers(1, 20_000), lost=counts, gained=counts)
def test_a_drop_is_refused_only_over_the_limit_one_image_and_the_noise(
    images: int, lost: int, gained: int
) -> None:
    drop = Int8Drop(images=images, lost=lost, gained=gained, limit_points=MAX_INT8_DROP_POINTS)
    net = lost - gained
    expected = (
        100 * net / images > MAX_INT8_DROP_POINTS + 1e-9
        and net > 1
        and net > 2 * math.sqrt(lost + gained)
    )
    assert drop.refused == expected
    assert not Int8Drop(images, lost, gained, limit_points=None).refused


@given(images=st.integers(1, 20_000), lost=counts, gained=counts)
def test_losing_one_more_image_never_turns_a_refusal_into_a_pass(
    images: int, lost: int, gained: int
) -> None:
    before = Int8Drop(images, lost, gained, MAX_INT8_DROP_POINTS)
    after = Int8Drop(images, lost + 1, gained, MAX_INT8_DROP_POINTS)
    assert not before.refused or after.refused


def test_one_image_of_a_small_test_set_is_not_a_failure() -> None:
    # 360 test images: one image is 0.28 points, over a 0.10-point limit in points alone
    labels = np.zeros(360, dtype=np.int64)
    fp32 = np.tile([1.0, 0.0], (360, 1))
    int8 = fp32.copy()
    int8[0] = [0.0, 1.0]
    drop = int8_drop(fp32, int8, labels, MAX_INT8_DROP_POINTS)
    assert (drop.lost, drop.gained, drop.drop_images) == (1, 0, 1)
    assert drop.drop_points > MAX_INT8_DROP_POINTS and not drop.refused
    int8[:30] = [0.0, 1.0]  # 30 images lost, none gained: real, over the noise (11 images)
    assert int8_drop(fp32, int8, labels, MAX_INT8_DROP_POINTS).refused
