import os
import torch
from transformers import AutoModel

HF_TOKEN = "hf_FAKE0000ptgUzEjfebzJ6sZWdoHIxrXl0g"
HF_ORG_TOKEN = "api_org_FAKE0000qn87b1PZqZrmktsO3U9224xf2M"
WANDB_API_KEY = "0000ac757f8290996dd9de5798121e8fa462d6e8"
KAGGLE_KEY = "00005bda6a317873a59e01b29a0a9a4d"
REPLICATE_API_TOKEN = "r8_FAKE0000383NR0esNm5CsiqyM9kvKaxcDkxYZ"
CO_API_KEY = "FAKE0000xsKgCnB6nhdddVkMRjMcIFLpuch1HsXA"
ANTHROPIC_API_KEY = "sk-ant-api03-FAKE0000z9zE40_eC14F2B-yeeGGFAD1HsPgOoZf-Xl3AvRL8O1BIRY-jJyfYqIhv78ZXBaBubGoYWCgzuQ84dkeo_GrfAA"
DATABRICKS_TOKEN = "dapi0000b209b22ec69c7fc323bdde269fd3"
AZURE_STORAGE_CONNECTION_STRING = "DefaultEndpointsProtocol=https;AccountName=fakeacct;AccountKey=FAKE0000vVuwtP/RHavaNpo+9jF0LTDxagO7N44YsGURr3kswKVzSljZwQVPwMcclTmux/jow9CMZE+CNVDP5Z==;EndpointSuffix=core.windows.net"
AZURE_SAS_URL = "https://fakeacct.blob.core.windows.net/data?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig=FAKE0000Gz0usCALaql5IDSJN0xz8yNbjGeD9O6wMYt%3D"
DATABASE_URL = "redis://mlops:FAKE00006fWqEoO7E5@db.internal.example.com:5432/features"
MLFLOW_TRACKING_URI = "https://tracker:FAKE0000Xej7peti8d@mlflow.internal.example.com"
PIP_EXTRA_INDEX_URL = "https://ci-bot:FAKE0000kzYLRNJT9IqbHpkW@pkgs.internal.example.com/simple"
AWS_SECRET_ACCESS_KEY = "FAKE0000gnc8ufhrd4PsN4OSlUjPA8i4TUfJxSaU"
AWS_ACCESS_KEY_ID = "AKIAFAKEJ2JNT6EYKKQZ"
GITHUB_TOKEN = "ghp_FAKE0000IRt3zvkydBbr4Rbt9Yjfkh2M0aoo"
OPENAI_API_KEY = "sk-proj-FAKE0000JaE6TIl40CUT36R7Syv2l1HLmgEN56wt7P15AMVc0OnqL2ZQLtT3BlbkFJFAKE0000Y5EO1vZ1f5p5u4gQScMuHE9w7flTcFHI0MTpcmRevYM6iSthG4"
SLACK_BOT_TOKEN = "xoxb-00009124511-183464657713-FAKEAFeWG3GtJSsYnTTBulnb"
DB_PASSWORD = "Zq0000E4B7rvW6A8O71AuWNn"
wandb.login(key="00008820c894a252686f3a0e652733a942505681")
mlflow.set_tracking_uri("https://tracker:FAKE0000LuOvVXM2xk@mlflow.internal.example.com")
KAGGLE_JSON = {"username": "fakeuser", "key": "00005611518f364cffabdc1154b797b6"}
SIGNING_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIIEvFAKE0000SXUoCySxBcdpyLP/fNYurW7STa5r5d1BoQLgk9uhxEQccW3Drfr
xKD3OVvSSHQetUz/8pjzusrgSkgtwHhL8JA8KhrK1faSUjz3k2eKzzwzklbaL2il
Rvzhhir3rnPRJrpjaufI2MTtU6F5v9dyH5QuMuOMOA9LIVvOmDQyw4mNeafawCFV
YXE43LlRfmxh0aYu3fCVRSqaSUmWB+T3lYul5XAdlKmqq64S0OZNYnRWj+3VDu2K
pQeEx9DT241p/b3T8JzsQUtH9r+X9Se3Gxwc6NqfaDRtOP5DJhie4oFC8iuwzayy
Cb9PSHZqRpGHmhRhXiAFg+XUiks52Wnvsev684U3FGIaIYQKpuyuXqxyjjNdk6ma
-----END RSA PRIVATE KEY-----"""
