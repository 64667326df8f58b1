from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyconv as tc
from tinyconv.data import ImageDataset, Predictions, score_images
from tinyconv.data.scoring import model_inputs


@settings(max_examples=15, deadline=None)
@given(count=st.integers(1, 30), batch=st.integers(1, 12), seed=st.integers(0, 1000))
def test_scoring_in_batches_equals_logits_of_all_images_at_once(count, batch, seed):
    """The one scoring function: what export computes from logits, the figures in batches."""
    model = tc.build(
        [tc.ConvSpec(out_channels=4, norm=False), tc.GAPHeadSpec(num_classes=3)],
        in_channels=3, input_size=(6, 6), seed=seed,
    ).eval()  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, 3, 6, 6), generator=generator, dtype=torch.uint8)
    labels = torch.randint(0, 3, (count,), generator=generator)
    data = ImageDataset(images, labels, "toy", ("a", "b", "c"), (0.3, 0.4, 0.5), (0.2, 0.2, 0.3))
    batched = score_images(model, data, batch_size=batch)
    with torch.no_grad():
        whole = Predictions.from_logits(model(model_inputs(model, data)), data)
    assert torch.equal(batched.predicted, whole.predicted)
    assert batched.accuracy == whole.accuracy
    torch.testing.assert_close(batched.probabilities, whole.probabilities)
