import hashlib
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
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----"
