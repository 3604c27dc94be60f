#!/usr/bin/env python3
"""Writes the labelled secrets corpus (testdata/corpus) and its MANIFEST.

Every planted secret is fake (it carries FAKE or 0000 where the format
allows) and unique, so its line can be found in the written file. The
MANIFEST lists one "file line rule" triple per expected finding; files
named lookalike-* must produce no finding. Deterministic: run it again to
regenerate the same bytes.
"""
import json
import os
import random
import string

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
rng = random.Random(4)

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = string.ascii_letters + string.digits + "+/"


def rand(alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


# Each kind: env-style name, a function making a fresh fake value, the
# expected rule, and the secret inside the value (for locating the line).
def hf():
    v = "hf_FAKE0000" + rand(ALNUM, 26)
    return v, v


def hf_org():
    v = "api_org_FAKE0000" + rand(ALNUM, 26)
    return v, v


def wandb():
    v = "0000" + rand(HEX, 36)
    return v, v


def kaggle():
    v = "0000" + rand(HEX, 28)
    return v, v


def replicate():
    v = "r8_FAKE0000" + rand(ALNUM, 29)
    return v, v


def cohere():
    v = "FAKE0000" + rand(ALNUM, 32)
    return v, v


def anthropic():
    v = "sk-ant-api03-FAKE0000" + rand(ALNUM + "_-", 85) + "AA"
    return v, v


def databricks():
    v = "dapi0000" + rand(HEX, 28)
    return v, v


def azure_key():
    k = "FAKE0000" + rand(B64, 78) + "=="
    return "DefaultEndpointsProtocol=https;AccountName=fakeacct;AccountKey=" + k + ";EndpointSuffix=core.windows.net", k


def azure_sas():
    sig = "FAKE0000" + rand(ALNUM, 35) + "%3D"
    return "https://fakeacct.blob.core.windows.net/data?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig=" + sig, sig


def db_url():
    pw = "FAKE0000" + rand(ALNUM, 10)
    scheme = rng.choice(["postgresql", "postgresql+psycopg2", "mysql", "mongodb+srv", "redis"])
    return f"{scheme}://mlops:{pw}@db.internal.example.com:5432/features", pw


def mlflow():
    pw = "FAKE0000" + rand(ALNUM, 10)
    return f"https://tracker:{pw}@mlflow.internal.example.com", pw


def pkg_index():
    pw = "FAKE0000" + rand(ALNUM, 16)
    return f"https://ci-bot:{pw}@pkgs.internal.example.com/simple", pw


def aws_secret():
    v = "FAKE0000" + rand(string.ascii_letters + string.digits, 32)
    return v, v


def aws_id():
    v = "AKIAFAKE" + rand("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 12)
    return v, v


def github():
    v = "ghp_FAKE0000" + rand(ALNUM, 28)
    return v, v


def openai():
    v = "sk-proj-FAKE0000" + rand(ALNUM, 50) + "T3BlbkFJ" + "FAKE0000" + rand(ALNUM, 50)
    return v, v


def slack():
    v = "xoxb-0000" + rand("123456789", 7) + "-" + rand("123456789", 12) + "-FAKE" + rand(ALNUM, 20)
    return v, v


def generic():
    # "fake" is one of gitleaks' generic-rule stop words: mark it with 0000.
    while True:
        v = "Zq0000" + rand(ALNUM, 18)
        if entropy(v) > 3.9:
            return v, v


def entropy(s):
    import math
    from collections import Counter
    return -sum(c / len(s) * math.log2(c / len(s)) for c in Counter(s).values())


KINDS = [
    ("HF_TOKEN", hf, "SEC101"),
    ("HF_ORG_TOKEN", hf_org, "SEC101"),
    ("WANDB_API_KEY", wandb, "SEC102"),
    ("KAGGLE_KEY", kaggle, "SEC103"),
    ("REPLICATE_API_TOKEN", replicate, "SEC104"),
    ("CO_API_KEY", cohere, "SEC105"),
    ("ANTHROPIC_API_KEY", anthropic, "SEC106"),
    ("DATABRICKS_TOKEN", databricks, "SEC107"),
    ("AZURE_STORAGE_CONNECTION_STRING", azure_key, "SEC108"),
    ("AZURE_SAS_URL", azure_sas, "SEC109"),
    ("DATABASE_URL", db_url, "SEC111"),
    ("MLFLOW_TRACKING_URI", mlflow, "SEC112"),
    ("PIP_EXTRA_INDEX_URL", pkg_index, "SEC113"),
    ("AWS_SECRET_ACCESS_KEY", aws_secret, "SEC114"),
    ("AWS_ACCESS_KEY_ID", aws_id, "SEC001:aws-access-token"),
    ("GITHUB_TOKEN", github, "SEC001:github-pat"),
    ("OPENAI_API_KEY", openai, "SEC001:openai-api-key"),
    ("SLACK_BOT_TOKEN", slack, "SEC001:slack-bot-token"),
    ("DB_PASSWORD", generic, "SEC001:generic-api-key"),
]


def pem_body(lines=6):
    out = ["MIIEvFAKE0000" + rand(B64, 51)]
    out += [rand(B64, 64) for _ in range(lines - 1)]
    return out


manifest = []


def write(name, text, expected):
    """expected: list of (secret or marker, rule); the line is found by search."""
    path = os.path.join(OUT, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="\n") as f:
        f.write(text)
    lines = text.split("\n")
    for needle, rule in expected:
        hits = [i + 1 for i, l in enumerate(lines) if needle in l]
        assert len(hits) == 1, (name, needle, hits)
        manifest.append((name, hits[0], rule))


def flat_forms():
    """One file per form, every kind planted once in each."""
    forms = {
        "train.py": lambda n, v: f'{n} = "{v}"',
        "config.yaml": lambda n, v: f'{n.lower()}: "{v}"',
        "prod.env": lambda n, v: f"{n}={v}",
        "Dockerfile": lambda n, v: f"ENV {n}={v}",
        "run.sh": lambda n, v: f'export {n}="{v}"',
    }
    for fname, fmt in forms.items():
        lines, exp = [], []
        if fname == "train.py":
            lines += ["import os", "import torch", "from transformers import AutoModel", ""]
        if fname == "Dockerfile":
            lines += ["FROM python:3.11-slim", "WORKDIR /app"]
        if fname == "run.sh":
            lines += ["#!/bin/sh", "set -eu"]
        for name, make, rule in KINDS:
            v, secret = make()
            lines.append(fmt(name, v))
            exp.append((secret, rule))
        if fname == "train.py":
            v, s = wandb()
            lines.append(f'wandb.login(key="{v}")')
            exp.append((s, "SEC102"))
            v, s = mlflow()
            lines.append(f'mlflow.set_tracking_uri("{v}")')
            exp.append((s, "SEC112"))
            v, s = kaggle()
            lines.append('KAGGLE_JSON = {"username": "fakeuser", "key": "' + v + '"}')
            exp.append((s, "SEC103"))
            body = pem_body()
            lines.append('SIGNING_KEY = """-----BEGIN RSA PRIVATE KEY-----')
            lines += body
            lines.append('-----END RSA PRIVATE KEY-----"""')
            exp.append(("SIGNING_KEY", "SEC002"))
        if fname == "config.yaml":
            body = pem_body()
            lines.append("tls_key: |")
            lines.append("  -----BEGIN PRIVATE KEY-----")
            lines += ["  " + b for b in body]
            lines.append("  -----END PRIVATE KEY-----")
            exp.append(("  -----BEGIN PRIVATE KEY-----", "SEC002"))
        if fname == "run.sh":
            body = pem_body()
            lines.append("cat > ~/.ssh/id_deploy <<'EOF'")
            lines.append("-----BEGIN OPENSSH PRIVATE KEY-----")
            lines += body
            lines.append("-----END OPENSSH PRIVATE KEY-----")
            lines.append("EOF")
            v, s = pkg_index()
            lines.append(f"pip install --extra-index-url {v} internal-models")
            exp.append(("-----BEGIN OPENSSH PRIVATE KEY-----", "SEC002"))
            exp.append((s, "SEC113"))
        lines.append("")
        write(fname, "\n".join(lines), exp)


def extra_files():
    v, s = pkg_index()
    write("pip.conf", f"[global]\nindex-url = {v}\ntimeout = 60\n", [(s, "SEC113")])
    v, s = pkg_index()
    write("requirements-private.txt", f"--extra-index-url {v}\ntorch==2.3.1\ninternal-features==1.2.0\n", [(s, "SEC113")])
    v, s = kaggle()
    write("kaggle.json", json.dumps({"username": "fakeuser", "key": v}) + "\n", [(s, "SEC103")])
    body = pem_body()
    sa = {
        "type": "service_account",
        "project_id": "fake-project-0000",
        "private_key_id": "0000" + rand(HEX, 36),
        "private_key": "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END PRIVATE KEY-----\n",
        "client_email": "trainer@fake-project-0000.iam.gserviceaccount.com",
        "client_id": "000000000000000000000",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    write("gcp-sa.json", json.dumps(sa, indent=2) + "\n", [('"private_key": "-----BEGIN', "SEC110")])


def notebook():
    cells, exp = [], []

    def code(src, outputs=None):
        cells.append({"cell_type": "code", "execution_count": len(cells) + 1, "metadata": {},
                      "outputs": outputs or [], "source": src})

    def md(src):
        cells.append({"cell_type": "markdown", "metadata": {}, "source": src})

    code(["import os\n", "import torch\n", "from huggingface_hub import login\n"])
    for i, (name, make, rule) in enumerate(KINDS):
        v, s = make()
        where = i % 3
        if where == 0:
            code([f"# configure {name.lower()}\n", f'{name} = "{v}"\n', f'os.environ["{name}"] = {name}\n', "model = None"])
        elif where == 1:
            md([f"## Credentials\n", "\n", f"Set `{name}={v}` before running.\n"])
        else:
            code([f"print(os.environ['{name}'])"],
                 [{"name": "stdout", "output_type": "stream", "text": ["loaded\n", f"{name}={v}\n"]}])
        exp.append((s, rule))
    # A token before an escaped quote: gitleaks reads the raw JSON and misses it.
    v, s = hf()
    code([f'login(token="{v}")\n'])
    exp.append((s, "SEC101"))
    v, s = github()
    code(["repr(cfg)"], [{"data": {"text/plain": [f"{{'token': '{v}'}}"]}, "execution_count": 9,
                            "metadata": {}, "output_type": "execute_result"}])
    exp.append((s, "SEC001:github-pat"))
    v, s = replicate()
    code(["client.run()"], [{"data": {"text/html": [f"<pre>REPLICATE_API_TOKEN={v}</pre>"]},
                              "metadata": {}, "output_type": "display_data"}])
    exp.append((s, "SEC104"))
    v, s = databricks()
    code(["connect()"], [{"ename": "AuthError", "evalue": "bad token", "output_type": "error",
                          "traceback": ["AuthError Traceback (most recent call last)",
                                        f"----> 1 connect(token=\"{v}\")"]}])
    exp.append((s, "SEC107"))
    body = pem_body()
    code(["KEY = '''-----BEGIN EC PRIVATE KEY-----\n"] + [b + "\n" for b in body] + ["-----END EC PRIVATE KEY-----'''\n"])
    exp.append(("KEY = '''-----BEGIN EC PRIVATE KEY-----", "SEC002"))
    # An image output whose base64 happens to hold an AWS-key-shaped run:
    # binary outputs are skipped.
    img = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk" + "AKIAFAKEQ2EXAMPLE7ZY" + "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    code(["plot()"], [{"data": {"image/png": img, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                       "metadata": {}, "output_type": "display_data"}])
    nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1) + "\n"
    # Locate secrets in the serialised file (escaped as JSON writes them).
    write_exp = []
    for needle, rule in exp:
        write_exp.append((json.dumps(needle)[1:-1] if needle.startswith("KEY") else needle, rule))
    write("notebook.ipynb", text, write_exp)


def lookalikes():
    py = '''import hashlib
import os
import uuid

HF_TOKEN = "<YOUR_TOKEN>"
hf_token = os.environ["HF_TOKEN"]
WANDB_API_KEY = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
OPENAI_API_KEY = os.getenv("OPENAI_API_KEY", "")
api_key = "${OPENAI_API_KEY}"
token = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
checkpoint_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
weights_hash_key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
revision = "3f786850e387550fdab836ed7e6dc881de23001b"
commit_key = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
run_id = "123e4567-e89b-12d3-a456-426614174000"
api_key_id = "550e8400-e29b-41d4-a716-446655440000"
session_token = str(uuid.uuid4())
# AWS documentation example keys
aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"
aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# Azure storage emulator
AZURE_STORAGE_CONNECTION_STRING = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
# jwt.io sample token
auth_token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
# Stripe docs test key
stripe_key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
DATABASE_URL = "postgresql://user:password@localhost:5432/mydb"
DATABASE_URL_LOCAL = "postgres://postgres:postgres@localhost:5432/postgres"
MLFLOW_TRACKING_URI = "https://{user}:{password}@mlflow.example.com"
PIP_INDEX = "--extra-index-url https://${PIP_USER}:${PIP_TOKEN}@pkgs.example.com/simple"
token_ids = tokenizer(text)["input_ids"]
max_tokens = 4096
key = hashlib.sha256(data).hexdigest()
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----"
'''
    write("lookalike-placeholders.py", py, [])
    yml = '''wandb:
  api_key: ${WANDB_API_KEY}
huggingface:
  token: "{{ secrets.HF_TOKEN }}"
mlflow:
  tracking_uri: http://mlflow:5000
model:
  sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
  revision: 3f786850e387550fdab836ed7e6dc881de23001b
  run_uuid: 123e4567-e89b-12d3-a456-426614174000
tokenizer:
  pad_token: "<pad>"
  eos_token: "</s>"
  max_token_length: 512
'''
    write("lookalike-config.yaml", yml, [])
    env = "HF_TOKEN=\nWANDB_API_KEY=your-wandb-key-here\nOPENAI_API_KEY=<your-openai-key>\nDATABASE_URL=postgresql://user:pass@localhost/db\n"
    write("lookalike.env", env, [])


if __name__ == "__main__":
    import shutil
    shutil.rmtree(OUT, ignore_errors=True)
    flat_forms()
    extra_files()
    notebook()
    lookalikes()
    manifest.sort()
    with open(os.path.join(HERE, "MANIFEST"), "w") as f:
        f.write("# file line rule[:gitleaks-rule] -- expected findings in testdata/corpus (generated by make_corpus.py)\n")
        for name, line, rule in manifest:
            f.write(f"{name} {line} {rule}\n")
