package secrets

import "github.com/palisade-sec/palisade/internal/scan"

// Severity policy: a credential that grants access on its own is high; a
// private key, a cloud account's root-level key (an Azure storage account
// key, a GCP service-account key, an AWS secret access key) is critical,
// because it cannot be scoped down and usually outlives the token it was
// meant to be.
const rotate = "Revoke or rotate the credential now (assume it is compromised once committed), remove it from the file and from version-control history, and load it at run time from the environment or a secret manager."

// Rules reported by the secrets scanner.
var (
	RuleGitleaks = scan.Rule{
		ID: "SEC001", Name: "gitleaks-secret", Severity: scan.SeverityHigh,
		Summary:     "A rule of gitleaks' default rule set matched a credential (the gitleaks rule ID is named in the message).",
		Remediation: rotate,
	}
	RulePrivateKey = scan.Rule{
		ID: "SEC002", Name: "private-key", Severity: scan.SeverityCritical,
		Summary:     "A PEM or OpenSSH private key block with key material, reported at its BEGIN line.",
		Remediation: "Treat the key pair as compromised: replace it (and any certificate issued for it), remove the key from the file and its history, and keep keys in a secret manager or an agent.",
	}
	RuleCustom = scan.Rule{
		ID: "SEC003", Name: "custom-gitleaks-rule", Severity: scan.SeverityHigh,
		Summary:     "A rule from the user's gitleaks configuration (not in gitleaks' defaults) matched (the rule ID is named in the message).",
		Remediation: rotate,
	}
	RuleHuggingFace = scan.Rule{
		ID: "SEC101", Name: "huggingface-token", Severity: scan.SeverityHigh,
		Summary:     "A Hugging Face user access token (hf_...) or organization API token (api_org_...).",
		Remediation: "Invalidate the token at huggingface.co/settings/tokens, remove it from the file and its history, and read it from HF_TOKEN or `huggingface-cli login` at run time. " + rotateTail,
	}
	RuleWandb = scan.Rule{
		ID: "SEC102", Name: "wandb-api-key", Severity: scan.SeverityHigh,
		Summary:     "A Weights & Biases API key (40 hex digits, or the v1 form) assigned to WANDB_API_KEY, passed to wandb.login, or stored in a netrc entry for api.wandb.ai.",
		Remediation: "Reset the key at wandb.ai/authorize, remove it from the file and its history, and set WANDB_API_KEY from a secret store at run time. " + rotateTail,
	}
	RuleKaggle = scan.Rule{
		ID: "SEC103", Name: "kaggle-api-key", Severity: scan.SeverityHigh,
		Summary:     "A Kaggle API key: the \"key\" of a kaggle.json, KAGGLE_KEY, or a KGAT_ API token.",
		Remediation: "Expire the token in your Kaggle account settings, remove it from the file and its history, and keep kaggle.json outside the repository (mode 600). " + rotateTail,
	}
	RuleReplicate = scan.Rule{
		ID: "SEC104", Name: "replicate-api-token", Severity: scan.SeverityHigh,
		Summary:     "A Replicate API token (r8_ followed by 37 characters).",
		Remediation: "Revoke the token at replicate.com/account/api-tokens and set REPLICATE_API_TOKEN at run time. " + rotateTail,
	}
	RuleCohere = scan.Rule{
		ID: "SEC105", Name: "cohere-api-key", Severity: scan.SeverityHigh,
		Summary:     "A Cohere API key (40 characters) assigned to CO_API_KEY, COHERE_API_KEY or passed to a Cohere client.",
		Remediation: "Delete the key in the Cohere dashboard and read CO_API_KEY from the environment at run time. " + rotateTail,
	}
	RuleAnthropic = scan.Rule{
		ID: "SEC106", Name: "anthropic-api-key", Severity: scan.SeverityHigh,
		Summary:     "An Anthropic API, admin or OAuth key (sk-ant-...).",
		Remediation: "Disable the key in the Anthropic console and read ANTHROPIC_API_KEY from the environment at run time. " + rotateTail,
	}
	RuleDatabricks = scan.Rule{
		ID: "SEC107", Name: "databricks-token", Severity: scan.SeverityHigh,
		Summary:     "A Databricks personal access token (dapi followed by 32 hex digits).",
		Remediation: "Revoke the token in the Databricks workspace (User Settings, Access tokens) and use a secret scope or DATABRICKS_TOKEN at run time. " + rotateTail,
	}
	RuleAzureStorageKey = scan.Rule{
		ID: "SEC108", Name: "azure-storage-account-key", Severity: scan.SeverityCritical,
		Summary:     "An Azure storage account key (88 base64 characters), usually inside a connection string (AccountKey=...): full control of the storage account.",
		Remediation: "Rotate both account keys in the Azure portal, remove the key from the file and its history, and use a managed identity or Key Vault reference instead. " + rotateTail,
	}
	RuleAzureSAS = scan.Rule{
		ID: "SEC109", Name: "azure-sas-signature", Severity: scan.SeverityHigh,
		Summary:     "An Azure shared access signature (a sig= parameter in a SAS URL or token).",
		Remediation: "Revoke the SAS (rotate the account key that signed it, or delete the stored access policy), and issue short-lived user-delegation SAS tokens at run time. " + rotateTail,
	}
	RuleGCPServiceAccount = scan.Rule{
		ID: "SEC110", Name: "gcp-service-account-key", Severity: scan.SeverityCritical,
		Summary:     "A Google Cloud service-account key file: a JSON object with \"type\": \"service_account\" and a private_key.",
		Remediation: "Delete the key in IAM (Service accounts, Keys), remove the file from the repository and its history, and use workload identity or application-default credentials instead of key files. " + rotateTail,
	}
	RuleDatabaseURL = scan.Rule{
		ID: "SEC111", Name: "database-url-password", Severity: scan.SeverityHigh,
		Summary:     "A database connection URL with an embedded password (postgres, mysql, mongodb, redis, mssql, amqp and SQLAlchemy dialects).",
		Remediation: "Change the database password, remove it from the URL, and pass credentials through the environment or a secret manager. " + rotateTail,
	}
	RuleTrackingURL = scan.Rule{
		ID: "SEC112", Name: "tracking-uri-credentials", Severity: scan.SeverityHigh,
		Summary:     "An experiment-tracking URL (MLFLOW_TRACKING_URI, set_tracking_uri, a registry or artifact URI) with user:password@ credentials.",
		Remediation: "Change the password and set MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (or a token) from a secret store instead. " + rotateTail,
	}
	RulePackageIndex = scan.Rule{
		ID: "SEC113", Name: "package-index-credentials", Severity: scan.SeverityHigh,
		Summary:     "A package index URL (--index-url, --extra-index-url, pip.conf index-url, PIP_INDEX_URL, uv/poetry sources) with user:token@ credentials.",
		Remediation: "Revoke the index token, remove it from the URL, and use keyring, a netrc outside the repository, or PIP_INDEX_URL injected at build time (a Docker build secret, not an ARG). " + rotateTail,
	}
	RuleAWSSecretKey = scan.Rule{
		ID: "SEC114", Name: "aws-secret-access-key", Severity: scan.SeverityCritical,
		Summary:     "An AWS secret access key (40 base64 characters) assigned to aws_secret_access_key or AWS_SECRET_ACCESS_KEY.",
		Remediation: "Deactivate and delete the access key in IAM, review CloudTrail for its use, and use roles or SSO credentials instead of long-lived keys. " + rotateTail,
	}
)

const rotateTail = "Assume a committed credential is compromised and purge it from version-control history."

// allRules lists every rule in ID order.
var allRules = []scan.Rule{
	RuleGitleaks, RulePrivateKey, RuleCustom,
	RuleHuggingFace, RuleWandb, RuleKaggle, RuleReplicate, RuleCohere, RuleAnthropic,
	RuleDatabricks, RuleAzureStorageKey, RuleAzureSAS, RuleGCPServiceAccount,
	RuleDatabaseURL, RuleTrackingURL, RulePackageIndex, RuleAWSSecretKey,
}

// Rules lists every rule the scanner reports.
func (s *Scanner) Rules() []scan.Rule { return append([]scan.Rule(nil), allRules...) }
