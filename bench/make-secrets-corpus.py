#!/usr/bin/env python3
"""Generate a deterministic corpus of realistic ML repository files for the
secrets-scanner throughput benchmark (bench/secrets-throughput.sh).

usage: make-secrets-corpus.py OUTDIR [MEGABYTES]   (default 200)

The corpus mixes Python training code dense in the words gitleaks' generic
rule keys on (token, key, api, auth, secret, password, access), Jupyter
notebooks with code, markdown, stream and rich text outputs and base64 PNG
outputs, and YAML configs. About one file in twenty has a planted fake
secret (a Hugging Face, W&B, GitHub or AWS key, a database URL). The same
arguments always produce the same bytes.
"""
import json
import os
import random
import string
import sys

rng = random.Random(20240611)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"

PY_LINES = [
    "tokenizer = AutoTokenizer.from_pretrained(model_name, token=os.environ.get(\"HF_TOKEN\"))",
    "model = AutoModelForCausalLM.from_pretrained(model_name, torch_dtype=torch.bfloat16, device_map=\"auto\")",
    "max_tokens = config[\"generation\"][\"max_new_tokens\"]",
    "api_url = f\"{API_BASE}/v1/chat/completions\"",
    "headers = {\"Authorization\": f\"Bearer {api_key}\", \"Content-Type\": \"application/json\"}",
    "cache_key = hashlib.sha256(prompt.encode(\"utf-8\")).hexdigest()",
    "for key, value in batch.items():",
    "    inputs[key] = value.to(device, non_blocking=True)",
    "attention_mask = tokens[\"attention_mask\"].to(device)",
    "secret_name = os.environ.get(\"TRAINING_SECRET_NAME\", \"training-credentials\")",
    "pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id",
    "logits = model(**inputs).logits",
    "loss = criterion(logits.view(-1, vocab_size), labels.view(-1))",
    "optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)",
    "scheduler = get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=500, num_training_steps=total_steps)",
    "if step % args.log_every == 0:",
    "    wandb.log({\"loss\": loss.item(), \"lr\": scheduler.get_last_lr()[0], \"tokens_seen\": tokens_seen})",
    "auth = requests.auth.HTTPBasicAuth(username, password)",
    "access_token = get_access_token(client_id, scope=\"https://ml.example.com/.default\")",
    "credentials = service_account.Credentials.from_service_account_file(args.key_file)",
    "self.key_proj = nn.Linear(hidden_size, num_heads * head_dim, bias=False)",
    "self.value_proj = nn.Linear(hidden_size, num_kv_heads * head_dim, bias=False)",
    "query_states = self.q_proj(hidden_states).view(bsz, q_len, self.num_heads, self.head_dim)",
    "key_states = self.k_proj(hidden_states).view(bsz, q_len, self.num_key_value_heads, self.head_dim)",
    "attn_weights = torch.matmul(query_states, key_states.transpose(2, 3)) / math.sqrt(self.head_dim)",
    "dataset = load_dataset(\"json\", data_files={\"train\": train_path, \"validation\": val_path})",
    "tokenized = dataset.map(tokenize_fn, batched=True, num_proc=8, remove_columns=[\"text\"])",
    "checkpoint_sha256 = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
    "run_id = \"123e4567-e89b-12d3-a456-426614174000\"",
    "# Compute the key/value cache size for the given sequence length.",
    "def get_api_client(api_key: str | None = None, timeout: float = 30.0) -> Client:",
    "    return Client(api_key=api_key or os.environ[\"OPENAI_API_KEY\"], timeout=timeout)",
    "s3 = boto3.client(\"s3\", aws_access_key_id=access_key, aws_secret_access_key=secret_key)",
    "mlflow.log_metric(\"eval_loss\", eval_loss, step=global_step)",
    "torch.save({\"model\": model.state_dict(), \"optimizer\": optimizer.state_dict()}, ckpt_path)",
    "",
]

YAML_LINES = [
    "model:", "  name_or_path: meta-llama/Llama-3.1-8B", "  revision: 3f786850e387550fdab836ed7e6dc881de23001b",
    "  torch_dtype: bfloat16", "tokenizer:", "  pad_token: \"<pad>\"", "  max_token_length: 4096",
    "training:", "  learning_rate: 0.0003", "  warmup_steps: 500", "  gradient_accumulation_steps: 8",
    "  save_steps: 1000", "api:", "  base_url: https://api.example.com/v1", "  api_key: ${OPENAI_API_KEY}",
    "  auth_header: Authorization", "secrets:", "  hf_token: ${HF_TOKEN}", "  wandb_key_env: WANDB_API_KEY",
    "data:", "  train_files: [s3://datasets/train-00000-of-00128.parquet]", "  access_mode: read_only",
]


def planted():
    kind = rng.randrange(5)
    if kind == 0:
        return "HF_TOKEN = \"hf_FAKE0000" + "".join(rng.choice(ALNUM) for _ in range(26)) + "\""
    if kind == 1:
        return "WANDB_API_KEY = \"0000" + "".join(rng.choice(HEX) for _ in range(36)) + "\""
    if kind == 2:
        return "GITHUB_TOKEN = \"ghp_FAKE0000" + "".join(rng.choice(ALNUM) for _ in range(28)) + "\""
    if kind == 3:
        return "AWS_ACCESS_KEY_ID = \"AKIAFAKE" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(12)) + "\""
    return "DATABASE_URL = \"postgresql://ml:FAKE0000" + "".join(rng.choice(ALNUM) for _ in range(10)) + "@db.internal:5432/features\""


def python_file(n_lines):
    out = ["import hashlib", "import math", "import os", "", "import torch", "from torch import nn", ""]
    out += [rng.choice(PY_LINES) for _ in range(n_lines)]
    if rng.randrange(20) == 0:
        out.insert(rng.randrange(7, len(out)), planted())
    return "\n".join(out) + "\n"


def notebook(n_cells):
    cells = []
    for i in range(n_cells):
        src = [rng.choice(PY_LINES) + "\n" for _ in range(rng.randrange(3, 15))]
        if i % 4 == 3:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": ["## Step %d\n" % i, "\n", "Set the API key and token before running this cell.\n"]})
            continue
        outputs = [{"name": "stdout", "output_type": "stream", "text": ["step %d loss %.4f tokens/s %d\n" % (s, rng.random(), rng.randrange(1000, 9000)) for s in range(rng.randrange(1, 8))]}]
        if i % 5 == 0:
            png = "iVBORw0KGgoAAAANSUhEUgAAA" + "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(rng.randrange(2000, 20000)))
            outputs.append({"data": {"image/png": png, "text/plain": ["<Figure size 640x480 with 1 Axes>"]}, "metadata": {}, "output_type": "display_data"})
        cells.append({"cell_type": "code", "execution_count": i + 1, "metadata": {}, "outputs": outputs, "source": src})
    if rng.randrange(10) == 0:
        cells.append({"cell_type": "code", "execution_count": n_cells + 1, "metadata": {}, "outputs": [], "source": [planted() + "\n"]})
    nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1) + "\n"


def yaml_file(n):
    return "\n".join(rng.choice(YAML_LINES) for _ in range(n)) + "\n"


def main():
    out = sys.argv[1]
    target = int(sys.argv[2] if len(sys.argv) > 2 else 200) << 20
    total, i = 0, 0
    while total < target:
        d = os.path.join(out, "repo%03d" % (i // 200))
        os.makedirs(d, exist_ok=True)
        kind = i % 10
        if kind < 6:
            name, text = "train_%05d.py" % i, python_file(rng.randrange(200, 1200))
        elif kind < 9:
            name, text = "explore_%05d.ipynb" % i, notebook(rng.randrange(10, 40))
        else:
            name, text = "config_%05d.yaml" % i, yaml_file(rng.randrange(50, 300))
        data = text.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        total += len(data)
        i += 1
    print("%s: %d files, %.1f MB" % (out, i, total / 1e6))


if __name__ == "__main__":
    main()
