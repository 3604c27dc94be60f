package secrets

import (
	"bytes"
	"regexp"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Common pieces of the assignment-shaped patterns: an optional quote or
// space, an assignment operator, an optional opening quote.
const (
	assign    = `[\s'"\])]{0,3}(?:=|:=?|=>|,|\(|\s)[\s'"\x60]{0,5}`
	urlCreds  = `([^:@/\s'"<>{}$]{1,64}):([^@/\s'"]{1,256})@`
	tokenTail = `(?:[^A-Za-z0-9_-]|$)`
)

// mlRule is a Palisade detector before compilation.
type mlRule struct {
	meta     scan.Rule
	kind     string // what the secret is, for messages
	keywords []string
	re       string
	group    int     // capture group holding the secret; 0 means the first non-empty one
	entropy  float64 // the secret's Shannon entropy must exceed this (0: no check)
	// check, when set, must accept the match; line is the whole line.
	check func(secret, line, lowerLine []byte) bool
	// url marks rules whose secret is a URL password: placeholders are
	// judged the way passwords are written in examples.
	url bool
}

// mlRules are Palisade's own detectors for the ML ecosystem. Each needs a
// keyword, so it only runs on lines that may hold its secret.
var mlRules = []mlRule{
	{
		meta: RuleHuggingFace, kind: "Hugging Face token",
		keywords: []string{"hf_", "api_org_"},
		// gitleaks accepts letters only; tokens and the fakes people
		// paste mix in digits.
		re:      `\b((?:hf_|api_org_)[A-Za-z0-9]{34})\b`,
		entropy: 3.0,
	},
	{
		meta: RuleWandb, kind: "Weights & Biases API key",
		keywords: []string{"wandb"},
		re:       `(?i)(?:wandb[\w.-]{0,20}?(?:api[_.-]?key|key|token)[\w.-]{0,5}` + assign + `|wandb\.login\([^)]{0,60}?key\s*=\s*[\x60'"]?|api\.wandb\.ai\s+login\s+\S+\s+password\s+)((?:local-)?[a-f0-9]{40})\b`,
		entropy:  3.0,
	},
	{
		meta: RuleKaggle, kind: "Kaggle API key",
		keywords: []string{"kaggle", `"username"`},
		re:       `(?i)(?:"username"\s*:\s*"[^"]{1,64}"\s*,\s*"key"\s*:\s*"([a-f0-9]{32})"|"key"\s*:\s*"([a-f0-9]{32})"\s*,\s*"username"|kaggle[\w.-]{0,10}key[\w.-]{0,5}` + assign + `([a-f0-9]{32})\b)`,
		entropy:  3.0,
	},
	{
		meta: RuleReplicate, kind: "Replicate API token",
		keywords: []string{"r8_"},
		re:       `\b(r8_[A-Za-z0-9]{37})\b`,
		entropy:  3.0,
	},
	{
		meta: RuleCohere, kind: "Cohere API key",
		keywords: []string{"cohere", "co_api_key"},
		re:       `(?i)(?:(?:co_api_key|cohere[\w.-]{0,20}?(?:api[_.-]?key|key|token))[\w.-]{0,5}` + assign + `|cohere\.(?:async)?client(?:v2)?\(\s*(?:api_key\s*=\s*)?[\x60'"]?)([A-Za-z0-9]{40})\b`,
		entropy:  3.5,
	},
	{
		meta: RuleAnthropic, kind: "Anthropic API key",
		keywords: []string{"sk-ant-"},
		re:       `\b(sk-ant-[a-z]{2,8}\d{2}-[A-Za-z0-9_-]{40,200})` + tokenTail,
		entropy:  3.5,
	},
	{
		meta: RuleDatabricks, kind: "Databricks access token",
		keywords: []string{"dapi"},
		re:       `\b(dapi[a-f0-9]{32}(?:-\d)?)\b`,
		entropy:  3.0,
	},
	{
		meta: RuleAzureStorageKey, kind: "Azure storage account key",
		keywords: []string{"accountkey", "account_key", "storage_key", "storagekey", "storage-key"},
		re:       `(?i)(?:accountkey\s*=\s*|(?:account|storage)[_-]?key[\w.-]{0,10}` + assign + `)([A-Za-z0-9+/]{86}==)`,
		entropy:  4.0,
	},
	{
		meta: RuleAzureSAS, kind: "Azure shared access signature",
		keywords: []string{"sig="},
		re:       `(?:^|[?&;\s'"])sig=([A-Za-z0-9%+/=]{30,140})`,
		entropy:  3.5,
		check: func(_, _, lower []byte) bool {
			// A SAS carries its version and expiry or permissions beside
			// the signature.
			return bytes.Contains(lower, []byte("sv=")) && (bytes.Contains(lower, []byte("se=")) || bytes.Contains(lower, []byte("sp=")))
		},
	},
	{
		meta: RuleDatabaseURL, kind: "database URL password",
		keywords: []string{"postgres", "mysql", "mariadb", "mongodb", "redis", "mssql", "sqlserver", "oracle", "amqp", "cockroachdb", "clickhouse"},
		re:       `(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|mssql|sqlserver|oracle|amqps?|cockroachdb|clickhouse)(?:\+[a-z0-9]+)?://` + urlCreds,
		group:    2, url: true,
	},
	{
		meta: RuleTrackingURL, kind: "tracking server password",
		keywords: []string{"mlflow", "tracking_uri", "tracking-uri", "trackinguri", "registry_uri"},
		re:       `(?i)https?://` + urlCreds,
		group:    2, url: true,
	},
	{
		meta: RulePackageIndex, kind: "package index credential",
		keywords: []string{"index-url", "index_url", "indexurl", "find-links", "find_links", "pypi", "/simple", "trusted-host"},
		re:       `(?i)https?://` + urlCreds,
		group:    2, url: true,
	},
	{
		meta: RuleAWSSecretKey, kind: "AWS secret access key",
		keywords: []string{"secret_access_key", "secret-access-key", "secretaccesskey", "aws_secret", "aws-secret", "awssecret"},
		re:       `(?i)(?:aws[_.-]?secret[_.-]?(?:access[_.-]?)?key|secret[_.-]?access[_.-]?key)[\w.-]{0,5}` + assign + `([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`,
		entropy:  3.5,
	},
}

// Private keys and GCP service-account files are found by the streaming
// detector in engine.go, not by a regular expression.
var reKeyBegin = regexp.MustCompile(`(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----`)

// knownExamples are published example credentials: documentation keys,
// emulator keys, jwt.io's sample token. A match containing one is not
// reported.
var knownExamples = []string{
	"AKIAIOSFODNN7EXAMPLE",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"AKIAI44QH8DHBEXAMPLE",
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
	"sk_test_4eC39HqLyjWDarjtT1zdp7dc",
	"sk_test_BQokikJOvBiI2HlWgH4olfQ2",
	"sk_test_26PHem9AhJZvU623DfE1x4sd",
}

// urlPlaceholders are passwords written in examples rather than used.
var urlPlaceholders = map[string]bool{
	"password": true, "pass": true, "passwd": true, "pwd": true, "secret": true, "changeme": true,
	"token": true, "pat": true, "apikey": true, "api_key": true, "mypassword": true, "yourpassword": true,
	"your_password": true, "your-password": true, "example": true, "test": true, "xxx": true,
}
