#!/bin/sh
set -eu
export HF_TOKEN="hf_FAKE0000j6jt4uGKRTqZqfeADR7t5HNh1C"
export HF_ORG_TOKEN="api_org_FAKE0000EqTTMBFVjpIXt00eZNUdyNmiaq"
export WANDB_API_KEY="0000536fd021f14d20f2f73580aa64c2773f7f33"
export KAGGLE_KEY="0000bbed5766279c2f244d4e166d43b9"
export REPLICATE_API_TOKEN="r8_FAKE0000R52JTNp5J30aRTbsujQ1yhh7Jesfz"
export CO_API_KEY="FAKE0000X6xPyGEn42uVZlOpEt2c3SMIjY7Vor9Y"
export ANTHROPIC_API_KEY="sk-ant-api03-FAKE0000G6N7F2PeDOnaNdDxdjEc1Rryi8ijFlS_oDcZdgu7B8Oy9y5p7ohln44CE4NsSxdfaZYnC7gPldAE5ij5gWT61AA"
export DATABRICKS_TOKEN="dapi0000d64e2f5e3d999fe01d3f4da535da"
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=https;AccountName=fakeacct;AccountKey=FAKE0000FMQdXgSt1dU8O/l1FJfHH2rHaQKegjHqNAYT7tuphwfKvs855AmPOxCp7C18OtNJZowe7qGAkH8N9O==;EndpointSuffix=core.windows.net"
export AZURE_SAS_URL="https://fakeacct.blob.core.windows.net/data?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&spr=https&sig=FAKE0000XMgc4PyK5cbI0MuzIbfxcT9c2kICaQxUld9%3D"
export DATABASE_URL="postgresql://mlops:FAKE0000m66q35XSNn@db.internal.example.com:5432/features"
export MLFLOW_TRACKING_URI="https://tracker:FAKE0000EK3dfuBcYp@mlflow.internal.example.com"
export PIP_EXTRA_INDEX_URL="https://ci-bot:FAKE0000C0v0vgEjaPFXtEjS@pkgs.internal.example.com/simple"
export AWS_SECRET_ACCESS_KEY="FAKE0000yMflbIBr5DhY44Gn01MOhOEM3zFlvsll"
export AWS_ACCESS_KEY_ID="AKIAFAKEH27EXPE5TMWA"
export GITHUB_TOKEN="ghp_FAKE0000Vy6UCklp00zOehZvg08aUrVte8pI"
export OPENAI_API_KEY="sk-proj-FAKE00005VEmNLrqOnt8rMzxBTCrDL1MciR4vnluhJojZQ2yRl6dR9Hu2RT3BlbkFJFAKE0000Yva34NzPLgR1RNGCqedPGoCAK2AcNmZ3sjokuTDdO03ucsVsPv"
export SLACK_BOT_TOKEN="xoxb-00007378657-651425185961-FAKEqvbgzYEibszXVA9nq1v8"
export DB_PASSWORD="Zq0000ANMkgFxmerQn6XQCQo"
cat > ~/.ssh/id_deploy <<'EOF'
-----BEGIN OPENSSH PRIVATE KEY-----
MIIEvFAKE0000cAVCW0C2wl80j5+TXxcYRrXg0MCPpNqV8Hc6wq56nQm/eHSJMQB
DD2zIjeBzVxrDVngkkFv3mwjCmSMef0vwOtvvMFqoCxWYm1b+xJZNlSDBV3V0err
FGN3BN5Tpxu+ozKMSLcfHDH54IgCmywKpvb+zNeUTvklQHIpXmxLEnPx0tmO9QPt
T9vlLFXazzURtJ5gMp4m2KsL6+5OTakMhwX9mjPvMbC+dD9d2wL/eUGhUn39NGFT
dzqKYGPz6v10jJSm23y2RIxXdhW49nsVH7vB6bb8wASypDVNir/o/2mzuPvJvaYl
HqtFPaty1vX1FAEiUt3/16GsoJ2MULi70TUmURz5d1RIuY1BbBNQzcJYaHO0Wf88
-----END OPENSSH PRIVATE KEY-----
EOF
pip install --extra-index-url https://ci-bot:FAKE0000mZkTMs1gQ9i9nbFf@pkgs.internal.example.com/simple internal-models
