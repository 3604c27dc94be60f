// Package container checks Dockerfiles and Kubernetes manifests against
// security rules written in Rego and evaluated with the OPA Go library.
//
// The Go side only parses: a Dockerfile (through BuildKit's parser) becomes
// a list of stages and instructions with line numbers, flags, arguments,
// resolved base-image references and the simple commands of each RUN; a
// Kubernetes YAML file (multi-document, List kinds flattened) becomes a
// list of objects with their line and the path to their pod spec. Every
// decision is made by the policies in policy/*.rego, which are embedded in
// the binary, compiled once and prepared once per entry point, then
// evaluated concurrently for every file. Users add policy directories of
// their own (Options.PolicyDirs); their rules follow the same contract and
// are compiled together with the built-in ones.
//
// Policy contract. A policy module declares one of three packages:
//
//   - palisade.docker: input is one Dockerfile (see dockerfileInput).
//   - palisade.kubernetes: input is one YAML file's objects (see
//     kubernetesInput).
//   - palisade.cluster: input is every Kubernetes object of the scan
//     (kind, name, namespace, file, line), for rules that span files; it is
//     evaluated by Scanner.Finish.
//
// Each package defines a set named deny (or findings) of objects with the
// fields id (string, required), message (string, required), and
// optionally severity (overrides the rule's default), line (1-based),
// remediation (overrides the rule's), object (index into input.objects)
// and path (a dotted path inside that object, such as
// "spec.template.spec.containers[0].securityContext", which the scanner
// maps to a line), and for palisade.cluster file. Every id a policy
// reports is declared by a METADATA annotation on the rule that reports
// it, whose title is the kebab-case rule name, description the one
// sentence summary, and custom fields id, severity and remediation; the
// Go side turns these annotations into scan.Rule values, so rule listings
// and documentation include user rules.
//
// Threat assumptions: scanned files are hostile. Nothing in them is
// executed; the Dockerfile and YAML readers are bounded in size, YAML in
// depth, node count (aliases included) and document count, and Rego
// evaluation sees only the parsed data. User policies are trusted code
// chosen by the operator, but they are compiled with the same limits on
// file size and count, and the OPA built-ins that reach the network
// (http.send, net.lookup_ip_addr) and the runtime are refused.
package container
