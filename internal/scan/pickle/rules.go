package pickle

import "github.com/palisade-sec/palisade/internal/scan"

const (
	remediateUntrusted = "Do not load this file. Delete it if it came from an untrusted source; if you need the model, get it in a data-only format (safetensors) from a publisher you trust, or rebuild it yourself."
	remediateReview    = "Check that every listed module is one you expect and trust in this model. Prefer loaders that refuse arbitrary globals (torch.load(weights_only=True), an allow-listing Unpickler) or convert the model to safetensors."
)

// Rules reported by the pickle scanner.
var (
	// RuleDangerousGlobal reports an import of a deny-listed global.
	RuleDangerousGlobal = scan.Rule{
		ID: "PKL001", Name: "dangerous-global", Severity: scan.SeverityCritical,
		Summary:     "The pickle imports a global on the deny list: loading it can run code, reach the network or the file system, or load a further payload.",
		Remediation: remediateUntrusted,
	}
	// RuleDangerousCall reports a call that reaches a deny-listed callable.
	RuleDangerousCall = scan.Rule{
		ID: "PKL002", Name: "dangerous-call", Severity: scan.SeverityCritical,
		Summary:     "The pickle calls a dangerous callable, directly or through a wrapper such as functools.partial, operator.methodcaller or getattr, with the arguments shown.",
		Remediation: remediateUntrusted,
	}
	// RuleUnknownGlobal reports an import of a global on neither list (once per global).
	RuleUnknownGlobal = scan.Rule{
		ID: "PKL003", Name: "unreviewed-global", Severity: scan.SeverityLow,
		Summary:     "The pickle imports a global that is neither a known-safe framework global nor on the deny list; loading the file imports and may call it.",
		Remediation: remediateReview,
	}
	// RuleDynamicImport reports an import whose module or name cannot be determined.
	RuleDynamicImport = scan.Rule{
		ID: "PKL004", Name: "unresolvable-import", Severity: scan.SeverityCritical,
		Summary:     "STACK_GLOBAL imports a module or name computed at load time (or one too long to examine), so what it imports cannot be checked.",
		Remediation: remediateUntrusted,
	}
	// RuleExtensionImport reports an import through the copyreg extension registry.
	RuleExtensionImport = scan.Rule{
		ID: "PKL005", Name: "extension-registry-import", Severity: scan.SeverityMedium,
		Summary:     "EXT1/EXT2/EXT4 import a global by number through the copyreg extension registry; the stream does not name it, so it cannot be checked statically.",
		Remediation: "Treat the file as untrusted: nothing Palisade knows of registers extension codes for model files. Re-export the model without extension codes, or convert it to safetensors.",
	}
	// RuleGlobalMutation reports state changes on an imported global.
	RuleGlobalMutation = scan.Rule{
		ID: "PKL006", Name: "imported-global-mutated", Severity: scan.SeverityHigh,
		Summary:     "BUILD, SETITEM, APPEND or ADDITEMS changes an imported module, class or function (not an object the pickle created), which can monkey-patch code that runs later.",
		Remediation: remediateUntrusted,
	}
	// RuleBrokenStream reports a stream that breaks before STOP.
	RuleBrokenStream = scan.Rule{
		ID: "PKL007", Name: "broken-pickle", Severity: scan.SeverityMedium,
		Summary:     "The pickle stream is malformed or ends before STOP; everything before the break runs when it is loaded (the broken-pickle evasion), and nothing after it was analysed.",
		Remediation: "Treat the file as untrusted until it is re-exported from a trusted source; do not rely on a loader error to stop a payload.",
	}
	// RuleTrailingData reports bytes after the last pickle that are not a pickle.
	RuleTrailingData = scan.Rule{
		ID: "PKL008", Name: "trailing-data", Severity: scan.SeverityInfo,
		Summary:     "Data that is not a pickle follows the last pickle in the file; a second format there makes the file a polyglot that different tools read differently.",
		Remediation: "Find out what writes the trailing data; a model file should not carry a second format after its pickle.",
	}
	// RuleLimit reports a scanner limit that stopped the analysis.
	RuleLimit = scan.Rule{
		ID: "PKL009", Name: "pickle-limit", Severity: scan.SeverityMedium,
		Summary:     "The pickle exceeds a scanner limit (stack depth, memo size, MARK depth, opcode count or nesting); the rest of the stream was not analysed.",
		Remediation: "Treat the file as untrusted: real models stay far below these limits. If it is legitimate, re-export it in a data-only format.",
	}
	// RuleExpansion reports memo/DUP expansion ("billion laughs").
	RuleExpansion = scan.Rule{
		ID: "PKL010", Name: "memo-expansion", Severity: scan.SeverityMedium,
		Summary:     "A few opcodes build objects that expand enormously through shared memo and DUP references (a \"billion laughs\" pickle) and exhaust tools that traverse them.",
		Remediation: "Do not load or convert the file; it is built to exhaust memory or CPU.",
	}
	// RuleProtocolAnomaly reports signs of a hand-crafted stream.
	RuleProtocolAnomaly = scan.Rule{
		ID: "PKL011", Name: "protocol-anomaly", Severity: scan.SeverityLow,
		Summary:     "The stream bends the pickle protocol in ways no pickler produces (opcodes newer than the declared protocol, duplicate or misplaced PROTO, mismatched FRAME lengths), a sign of hand-crafting.",
		Remediation: "Find out what produced the file; re-export it with a standard pickler or convert it to safetensors.",
	}
	// RuleDynamicCall reports a call whose callable cannot be resolved.
	RuleDynamicCall = scan.Rule{
		ID: "PKL012", Name: "dynamic-call", Severity: scan.SeverityMedium,
		Summary:     "The pickle calls an object produced at load time (the result of another call, a persistent id or an extension-registry import), so what runs cannot be determined statically; high when the called value comes from a global that is not allow-listed or from getattr or another attribute walk (a gadget chain).",
		Remediation: remediateReview,
	}
)

// allRules lists the rules in ID order.
var allRules = []scan.Rule{
	RuleDangerousGlobal, RuleDangerousCall, RuleUnknownGlobal, RuleDynamicImport,
	RuleExtensionImport, RuleGlobalMutation, RuleBrokenStream, RuleTrailingData, RuleLimit,
	RuleExpansion, RuleProtocolAnomaly, RuleDynamicCall,
}
