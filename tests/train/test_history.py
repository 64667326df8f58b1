import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyconv.train import EpochRecord, History

from .helpers import record


def test_history_is_list_like():
    history = History()
    history.append(record(1))
    history.append(record(2))
    assert len(history) == 2
    assert [r.epoch for r in history] == [1, 2]
    assert history[0].epoch == 1
    assert [r.epoch for r in history[1:]] == [2]
    assert history.final.epoch == 2


def test_metrics_are_named_after_the_evaluated_set():
    assert set(record(1, eval_name="test").metrics()) == {
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
    }
    no_eval = record(1, eval_loss=None, eval_acc=None, eval_name=None)
    assert set(no_eval.metrics()) == {"train_loss", "train_acc"}


def test_best_minimises_losses_and_maximises_accuracies_earliest_tie_wins():
    history = History(
        [
            record(1, eval_loss=0.6, eval_acc=0.80),
            record(2, eval_loss=0.4, eval_acc=0.85),
            record(3, eval_loss=0.4, eval_acc=0.92),
            record(4, eval_loss=0.5, eval_acc=0.92),
        ]
    )
    assert history.best("val_loss").epoch == 2
    assert history.best("val_acc").epoch == 3
    assert history.best("train_loss").epoch == 4


def test_best_of_an_unknown_metric_lists_the_available_ones():
    history = History([record(1)])
    with pytest.raises(ValueError, match=r"'test_acc'.*available metrics: \['train_acc'"):
        history.best("test_acc")


def test_final_of_empty_history_is_an_error():
    with pytest.raises(ValueError, match="History is empty"):
        _ = History().final


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
records = st.builds(
    EpochRecord,
    epoch=st.integers(1, 10_000),
    train_loss=finite,
    train_acc=st.floats(0, 1),
    eval_loss=st.none() | finite,
    eval_acc=st.none() | st.floats(0, 1),
    eval_name=st.none() | st.sampled_from(["val", "test", "holdout"]),
    lr=finite,
    seconds=st.floats(0, 1e6),
    images_per_sec=st.floats(0, 1e9),
)


@settings(max_examples=30, deadline=None)
@given(st.lists(records, max_size=6))
def test_json_and_csv_roundtrips_are_exact(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("history")
    history = History(rows)
    assert History.from_json(history.to_json(folder / "h.json")) == history
    assert History.from_csv(history.to_csv(folder / "h.csv")) == history
    assert sorted(p.name for p in folder.iterdir()) == ["h.csv", "h.json"]  # no temp files


def test_csv_has_a_header_and_empty_cells_for_missing_eval(tmp_path):
    path = History([record(1, eval_loss=None, eval_acc=None, eval_name=None)]).to_csv(
        tmp_path / "h.csv"
    )
    header, row = path.read_text().splitlines()
    assert header.split(",")[:4] == ["epoch", "train_loss", "train_acc", "eval_loss"]
    assert row.startswith("1,1.0,0.5,,,,")


def test_from_json_rejects_other_content(tmp_path):
    path = tmp_path / "h.json"
    path.write_text('{"epoch": 1}')
    with pytest.raises(ValueError, match="must hold a JSON list of epoch records, got dict"):
        History.from_json(path)
    path.write_text("[{")
    with pytest.raises(ValueError, match="is not valid JSON"):
        History.from_json(path)
    path.write_text('[{"epoch": 1}]')
    with pytest.raises(ValueError, match=r"missing \['eval_acc'"):
        History.from_json(path)


def test_nan_losses_survive_json(tmp_path):
    history = History([record(1, eval_loss=math.nan)])
    loaded = History.from_json(history.to_json(tmp_path / "h.json"))
    assert math.isnan(loaded.final.eval_loss)
