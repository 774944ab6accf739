"""Model folders a user may point ladder at that cannot be loaded: each is one line naming
the folder, the cause and the way out, with exit status 2 through the CLI.

Folders are built from the tiny random Llama of ``conftest.py`` (no downloads).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch

from ladder.cli import build_parser, main
from ladder.core.errors import ModelLoadError
from ladder.harness.models import base, loading
from ladder.harness.models.loading import file_sha256, load_model

_GRID = (
    "name: g\nconditions: [var]\ncouplings: [0.5]\nlags: [1]\nlengths: [20]\nburn_in: 5\n"
    "series_per_cell: 1\nsurrogates: 19\ndigits: 2\n"
)


class _Unsafe:
    """Pickles as a call to ``os.getcwd``: harmless, but not a tensor, so torch's
    weights-only loader must refuse it (and run nothing)."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (os.getcwd, ())


def _folder_with_bin(tiny_model, folder: Path, payload: bytes | None) -> Path:
    """A model folder whose only weights are ``pytorch_model.bin`` (``payload``, or a
    pickle of a non-tensor object when None)."""
    tiny_model.model.save_pretrained(folder)
    tiny_model.tokenizer.save_pretrained(folder)
    (folder / "model.safetensors").unlink()
    with (folder / "pytorch_model.bin").open("wb") as fh:
        if payload is None:
            torch.save({"model.embed_tokens.weight": _Unsafe()}, fh)
        else:
            fh.write(payload)
    return folder


def _granger(capsys, model: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    grid = tmp_path / "g.yaml"
    grid.write_text(_GRID)
    capsys.readouterr()  # drop what building the folder printed
    argv = ["granger", "--model", str(model), "--grid", str(grid), "--out", str(tmp_path / "run")]
    code = main([*argv, *extra])
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize(
    ("payload", "cause"),
    [
        (b"this is not a pickle at all", "IndexError"),
        (None, "UnpicklingError: Trying to load unsupported GLOBAL posix.getcwd"),
    ],
    ids=["garbage", "pickle-unsafe"],
)
def test_bin_weights_torch_refuses_are_one_line(
    tiny_model, tmp_path, monkeypatch, capsys, payload, cause
) -> None:
    """Defect 6: these were tracebacks with exit status 1."""
    monkeypatch.setenv("LADDER_CACHE", str(tmp_path / "cache"))
    folder = _folder_with_bin(tiny_model, tmp_path / "model", payload)
    with pytest.raises(ModelLoadError) as info:
        load_model(str(folder))
    message = str(info.value)
    assert "\n" not in message and str(folder) in message
    assert "torch refuses to unpickle" in message and cause in message
    assert ".safetensors" in message
    code, err = _granger(capsys, folder, tmp_path)
    assert code == 2 and err == f"ladder granger: error: {message}"
    assert not (tmp_path / "run").exists()


def test_custom_code_refusal_names_the_option(tiny_model, tmp_path, capsys) -> None:
    """Defect 11: the refusal used to quote transformers' ``trust_remote_code=True``."""
    folder = tmp_path / "custom"
    tiny_model.model.save_pretrained(folder)
    tiny_model.tokenizer.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "ladder-custom"
    config["auto_map"] = {
        "AutoConfig": "configuration_x.XConfig",
        "AutoModelForCausalLM": "modeling_x.XForCausalLM",
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "configuration_x.py").write_text("raise SystemExit('custom code ran')\n")
    with pytest.raises(ModelLoadError) as info:
        load_model(str(folder))
    message = str(info.value)
    assert "\n" not in message and str(folder) in message
    assert "custom code" in message and "--trust-remote-code" in message
    code, err = _granger(capsys, folder, tmp_path)
    assert code == 2 and "--trust-remote-code" in err
    assert build_parser().parse_args(["granger", "--trust-remote-code"]).trust_remote_code


def test_custom_code_refusal_from_the_hub_cache(monkeypatch) -> None:
    """A hub id whose cached copy needs custom code is refused as such, not as 'not found'."""
    from transformers import AutoTokenizer

    def refuse(name: str, **kwargs: object) -> None:
        raise ValueError(
            f"The repository {name} contains custom code which must be executed to correctly "
            "load the model.\nPlease pass the argument `trust_remote_code=True` to allow it."
        )

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", refuse)
    monkeypatch.setattr(loading, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(ModelLoadError, match="pass --trust-remote-code") as info:
        load_model("some-org/custom-model")
    assert "some-org/custom-model" in str(info.value)


def test_hub_error_keeps_its_whole_first_line(monkeypatch) -> None:
    """Defect 11: the hub's message was cut at 200 characters."""
    from transformers import AutoTokenizer

    long_line = "revision v9 is not a valid git identifier " + "x" * 300 + " END-OF-LINE"

    def fail(name: str, **kwargs: object) -> None:
        raise OSError(f"{long_line}\nsecond line of details")

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", fail)
    monkeypatch.setattr(loading, "hub_reachable", lambda timeout=3.0: True)
    with pytest.raises(ModelLoadError) as info:
        load_model("some-org/some-model")
    message = str(info.value)
    assert message.endswith(f"(hub: {long_line})")
    assert "second line" not in message and "\n" not in message


def test_other_errors_keep_their_traceback(tiny_model, tmp_path, monkeypatch) -> None:
    """Only failures of the input become ModelLoadError; a bug stays a bug."""
    from transformers import AutoModelForCausalLM

    folder = tmp_path / "tiny"
    tiny_model.model.save_pretrained(folder)
    tiny_model.tokenizer.save_pretrained(folder)

    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", bug)
    with pytest.raises(ZeroDivisionError):
        load_model(str(folder))


def test_file_sha256_memo(tmp_path, monkeypatch) -> None:
    """The memo on (path, size, mtime) answers repeats without reading the file again, a
    changed file is hashed again, and a memo that cannot be written never fails a load."""
    monkeypatch.setenv("LADDER_CACHE", str(tmp_path / "cache"))
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"abc" * 1000)
    expected = hashlib.sha256(b"abc" * 1000).hexdigest()
    assert file_sha256(weights) == expected
    memo = json.loads((tmp_path / "cache" / "models" / "sha256.json").read_text())
    assert list(memo.values()) == [expected]

    def no_read(path: object) -> str:
        raise AssertionError("hashed again")

    monkeypatch.setattr(base, "_hash_file", no_read)
    assert file_sha256(weights) == expected
    monkeypatch.undo()
    monkeypatch.setenv("LADDER_CACHE", str(tmp_path / "cache"))
    weights.write_bytes(b"abcd" * 1000)
    assert file_sha256(weights) == hashlib.sha256(b"abcd" * 1000).hexdigest()
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("LADDER_CACHE", str(blocker))
    assert file_sha256(weights) == hashlib.sha256(b"abcd" * 1000).hexdigest()
