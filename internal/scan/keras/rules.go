package keras

import "github.com/palisade-sec/palisade/internal/scan"

// Rules reported by the Keras scanner.
var (
	// RuleLambdaBytecode is a Lambda layer that carries marshalled Python
	// bytecode.
	RuleLambdaBytecode = scan.Rule{
		ID: "KER001", Name: "lambda-bytecode", Severity: scan.SeverityHigh,
		Summary: "A Lambda layer carries marshalled Python bytecode that runs when the model is loaded with safe_mode=False or by Keras before 2.13 (CVE-2024-3660).",
		Remediation: "Do not load the model with safe_mode=False or an old Keras; rebuild it without Lambda layers " +
			"(use a registered custom layer whose code you review) or obtain it from a trusted source.",
	}
	// RuleDangerousReference is a callable reference to a module on the
	// deny list or to a Keras function that defeats safe_mode.
	RuleDangerousReference = scan.Rule{
		ID: "KER002", Name: "dangerous-callable-reference", Severity: scan.SeverityHigh,
		Summary: "The config references a callable that can run commands, touch files or the network, load further models or switch off Keras safe mode (os.system, builtins.eval, keras.config.enable_unsafe_deserialization, TFSMLayer, load_model ...), or a layer reads a file or URL named in the config (a vocabulary path).",
		Remediation: "Do not load the model; a legitimate model never references these callables. " +
			"Upgrade Keras (CVE-2025-1550 and later safe_mode bypasses) and obtain the model from a trusted source.",
	}
	// RuleCustomReference is a reference to a callable outside the Keras
	// namespace that is not known to be dangerous.
	RuleCustomReference = scan.Rule{
		ID: "KER003", Name: "custom-object-reference", Severity: scan.SeverityMedium,
		Summary: "The config references a class or function outside the Keras namespace; loading imports that module and runs its code.",
		Remediation: "Review the referenced module before loading and load only with custom_objects you provide yourself; " +
			"treat the model as untrusted if you do not recognise the module.",
	}
	// RuleMalformedConfig is a config that is not valid JSON.
	RuleMalformedConfig = scan.Rule{
		ID: "KER004", Name: "malformed-config", Severity: scan.SeverityMedium,
		Summary:     "The Keras config is not valid JSON; content after the error was not analysed.",
		Remediation: "Treat the model as untrusted: re-export it from a trusted source and scan it again.",
	}
	// RuleConfigLimit is a config the scanner could not analyse completely
	// because a limit was reached.
	RuleConfigLimit = scan.Rule{
		ID: "KER005", Name: "config-limit-exceeded", Severity: scan.SeverityMedium,
		Summary:     "The Keras config is larger, more deeply nested or holds more findings than the scan limits; part of it was not analysed.",
		Remediation: "Inspect the config by hand, or raise the header-size limit if the config is legitimately large.",
	}
)

// allRules lists every rule the scanner may report.
var allRules = []scan.Rule{
	RuleLambdaBytecode, RuleDangerousReference, RuleCustomReference, RuleMalformedConfig, RuleConfigLimit,
}
