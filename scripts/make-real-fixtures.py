#!/usr/bin/env python3
"""Writes model files with the real serializers (PyTorch, NumPy, joblib,
scikit-learn, pandas, h5py, ONNX) into internal/app/testdata/real/, with a
MANIFEST.tsv of the verdict each should get. The corpus test in
internal/app checks Palisade against them: real files catch false positives
that hand-made fixtures miss.

The malicious fixtures are built with __reduce__ and are only serialized
here, never loaded. Run on a machine with Debian's python3-torch,
python3-sklearn, python3-numpy, python3-joblib, python3-pandas,
python3-h5py and python3-onnx:

    /usr/bin/python3 scripts/make-real-fixtures.py
"""
import base64
import json
import marshal
import os
import pickle
import sys

import h5py
import joblib
import numpy as np
import onnx
import pandas as pd
import torch
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "internal", "app", "testdata", "real")
rows = []


def record(name, verdict, severity, what):
    rows.append((name, verdict, severity, what))


def path(name):
    return os.path.join(OUT, name)


class RunsShell:
    """Serializes as a call to os.system; never instantiated on load here."""

    def __reduce__(self):
        return (os.system, ("echo palisade-fixture",))


def torch_files():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    torch.save(model.state_dict(), path("torch_state_dict.pt"))
    record("torch_state_dict.pt", "safe", "none", f"torch {torch.__version__} torch.save(state_dict), zip format")
    torch.save(model.state_dict(), path("torch_state_dict_legacy.pt"), _use_new_zipfile_serialization=False)
    record("torch_state_dict_legacy.pt", "safe", "none", "torch.save(state_dict, _use_new_zipfile_serialization=False), legacy stacked pickles")
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = model(torch.randn(5, 4)).sum()
    loss.backward()
    opt.step()
    ckpt = {"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(), "loss": float(loss)}
    torch.save(ckpt, path("torch_training_checkpoint.pt"))
    record("torch_training_checkpoint.pt", "safe", "none", "training checkpoint dict with model and SGD optimizer state")
    torch.save(model, path("torch_whole_module.pt"))
    record("torch_whole_module.pt", "safe", "none", "torch.save(nn.Module): pickles torch.nn module classes")
    torch.jit.script(model).save(path("torchscript_module.pt"))
    record("torchscript_module.pt", "safe", "none", "torch.jit.script(model).save: TorchScript archive with code/ and constants.pkl")
    torch.save({"weights": model.state_dict(), "hook": RunsShell()}, path("mal_torch_save_reduce.pt"))
    record("mal_torch_save_reduce.pt", "unsafe", "critical", "real torch.save of an object whose __reduce__ calls os.system")
    torch.save({"hook": RunsShell()}, path("mal_torch_save_reduce_legacy.pt"), _use_new_zipfile_serialization=False)
    record("mal_torch_save_reduce_legacy.pt", "unsafe", "critical", "legacy torch.save with an os.system __reduce__")


def numpy_files():
    np.save(path("numpy_float32.npy"), np.arange(12, dtype=np.float32).reshape(3, 4))
    record("numpy_float32.npy", "safe", "none", f"numpy {np.__version__} np.save float32 array")
    np.save(path("numpy_structured.npy"), np.zeros(3, dtype=[("x", "<f4"), ("label", "S8")]))
    record("numpy_structured.npy", "safe", "none", "structured dtype without object fields")
    np.save(path("numpy_object_strings.npy"), np.array(["a", {"k": 1}, None], dtype=object), allow_pickle=True)
    record("numpy_object_strings.npy", "safe", "low", "object array of str/dict/None: pickle body with numpy reconstruct only")
    np.savez_compressed(path("numpy_arrays_compressed.npz"), a=np.ones((8, 8)), b=np.arange(5))
    record("numpy_arrays_compressed.npz", "safe", "none", "np.savez_compressed, deflated members")
    np.save(path("mal_numpy_object_reduce.npy"), np.array([RunsShell()], dtype=object), allow_pickle=True)
    record("mal_numpy_object_reduce.npy", "unsafe", "critical", "object array whose element reduces to os.system")


def sklearn_files():
    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=200))]).fit(X, y)
    forest = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(X, y)
    joblib.dump(pipe, path("sklearn_pipeline.joblib"))
    record("sklearn_pipeline.joblib", "safe", "none", "joblib.dump of a fitted StandardScaler+LogisticRegression pipeline, uncompressed (arrays mid-stream)")
    joblib.dump(forest, path("sklearn_forest.joblib"))
    record("sklearn_forest.joblib", "safe", "none", "joblib.dump of a fitted RandomForestClassifier (tree arrays with structured dtypes)")
    for method in ("zlib", "gzip", "bz2", "lzma", "xz"):
        name = f"sklearn_pipeline_{method}.joblib"
        joblib.dump(pipe, path(name), compress=(method, 3))
        record(name, "safe", "none", f"joblib.dump compress=({method!r}, 3)")
    with open(path("sklearn_pipeline.pkl"), "wb") as f:
        pickle.dump(pipe, f, protocol=5)
    record("sklearn_pipeline.pkl", "safe", "none", "pickle.dump protocol 5 of the pipeline (out-of-band-capable numpy reduce)")
    joblib.dump({"model": pipe, "hook": RunsShell()}, path("mal_joblib_reduce_zlib.joblib"), compress=("zlib", 3))
    record("mal_joblib_reduce_zlib.joblib", "unsafe", "critical", "zlib-compressed joblib with an os.system __reduce__")


def pandas_files():
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "when": pd.date_range("2026-01-01", periods=3)})
    df.to_pickle(path("pandas_frame.pkl"))
    record("pandas_frame.pkl", "safe", "none", f"pandas {pd.__version__} DataFrame.to_pickle")


def keras_like_h5():
    dense = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "in"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "relu"}}]},
        "keras_version": "2.12.0", "backend": "tensorflow"}
    with h5py.File(path("keras_dense.h5"), "w") as f:
        f.attrs["model_config"] = json.dumps(dense)
        f.attrs["keras_version"] = "2.12.0"
        f.create_group("model_weights").create_dataset("kernel", data=np.ones((4, 2), dtype=np.float32))
    record("keras_dense.h5", "safe", "none", f"h5py {h5py.__version__} file shaped like a tf.keras 2 .h5 (model_config root attribute)")
    code = compile("lambda x: __import__('os').system('echo palisade-fixture') or x", "<fixture>", "eval")
    lam = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "Lambda", "config": {"name": "lambda", "function": [base64.b64encode(marshal.dumps(code.co_consts[0])).decode(), None, None],
                                           "function_type": "lambda", "module": "__main__", "output_shape": None}}]},
           "keras_version": "2.12.0", "backend": "tensorflow"}
    with h5py.File(path("mal_keras_lambda.h5"), "w") as f:
        f.attrs["model_config"] = json.dumps(lam)
        f.create_group("model_weights")
    record("mal_keras_lambda.h5", "unsafe", "high", "tf.keras 2 style .h5 whose model_config has a Lambda layer with marshalled bytecode")


def onnx_files():
    w = numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), name="W")
    graph = helper.make_graph([helper.make_node("Add", ["x", "W"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])], [w])
    onnx.save(helper.make_model(graph, producer_name="palisade-fixtures"), path("onnx_add.onnx"))
    record("onnx_add.onnx", "safe", "none", f"onnx {onnx.__version__} helper-built Add model with an inline initializer")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    torch.onnx.export(model, torch.randn(1, 4), path("torch_export.onnx"))
    record("torch_export.onnx", "safe", "none", "torch.onnx.export of Linear+ReLU")


def main():
    os.makedirs(OUT, exist_ok=True)
    for step in (torch_files, numpy_files, sklearn_files, pandas_files, keras_like_h5, onnx_files):
        step()
    with open(path("MANIFEST.tsv"), "w") as f:
        f.write("file\texpected_verdict\tseverity (safe: highest allowed; unsafe: expected)\tconstruct\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"wrote {len(rows)} fixtures to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
