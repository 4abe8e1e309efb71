"""Run settings: the checks, the learning-rate schedules."""
from gluon_googlenet import TrainConfig, train
from gluon_googlenet.base.errors import ConfigError
from gluon_googlenet.training.optimizer import lr_at

import pytest
from conftest import SMALL, dict_replace


@pytest.mark.parametrize("change, message", [
    (dict(epochs=0), "--epochs"), (dict(lr=float("nan")), "--lr"), (dict(optimizer="rmsprop"), "--optimizer"),
    (dict(lr_schedule="step:x"), "--lr-schedule"), (dict(lr_schedule="warm"), "lr-schedule")])
def test_bad_settings_are_config_errors(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        train(dict_replace(TrainConfig(out=str(tmp_path), **SMALL), **change))


def test_lr_schedules():
    config = TrainConfig(lr=0.1, epochs=4)
    assert [lr_at(config, e) for e in range(4)] == [0.1] * 4
    step = dict_replace(config, lr_schedule="step:1,3")
    assert [round(lr_at(step, e), 6) for e in range(4)] == [0.1, 0.01, 0.01, 0.001]
    cosine = dict_replace(config, lr_schedule="cosine")
    assert lr_at(cosine, 0) == 0.1 and lr_at(cosine, 2) == pytest.approx(0.05)


def test_the_command_line_and_the_api_judge_a_schedule_by_one_rule(capsys):
    from gluon_googlenet import cli
    from gluon_googlenet.training.run.config import SCHEDULES, validate
    for good in (*SCHEDULES, "step:2", "step:1, 3"):
        validate(TrainConfig(lr_schedule=good))
    for bad in ("warm", "step:", "step:x", "Cosine"):
        with pytest.raises(ConfigError, match=f"^bad --lr-schedule: use constant, cosine, onecycle or step:E1,E2 "
                                              f"\\(e.g. step:5,8\\), got '{bad}'$"):
            validate(TrainConfig(lr_schedule=bad))
        with pytest.raises(SystemExit):
            cli.main(["train", "--lr-schedule", bad])
        assert f"use constant, cosine, onecycle or step:E1,E2 (e.g. step:5,8), got '{bad}'" in capsys.readouterr().err


def test_momentum_for_an_optimizer_that_takes_none_is_one_line():
    from gluon_googlenet import TrainConfig
    from gluon_googlenet.base.errors import ConfigError
    from gluon_googlenet.training.run.config import validate
    validate(TrainConfig(optimizer="nag", momentum=0.5))
    validate(TrainConfig(optimizer="momentum", momentum=0.5, wd=1e-4))
    for optimizer in ("sgd", "adam"):
        with pytest.raises(ConfigError, match=f"^--momentum 0.5 is for --optimizer momentum or nag; {optimizer} "
                                              "takes none"):
            validate(TrainConfig(optimizer=optimizer, momentum=0.5))
    with pytest.raises(ConfigError, match="^--optimizer nag with --wd on CPU: .*use --optimizer momentum"):
        validate(TrainConfig(optimizer="nag", wd=1e-4))
    validate(TrainConfig(optimizer="nag", wd=1e-4, ctx="gpu"))


def test_every_train_flag_is_a_config_field_and_every_field_a_flag():
    """The command line builds its TrainConfig from the parsed flags whose dest is a field: a flag
    whose dest drifts from its field would be dropped without a word, so the pairing is checked both
    ways here (the flags that are not settings of the run are named)."""
    import dataclasses

    from gluon_googlenet.cli.parser import build_parser
    verbs = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    dests = {action.dest for action in verbs.choices["train"]._actions}
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    assert fields - dests == set(), "TrainConfig fields no train flag sets"
    assert dests - fields == {"help", "preset", "report"}, "train flags that reach no TrainConfig field"
