package container

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// ErrTooLarge reports a file beyond the scanner's size limit; the engine
// turns the error into an incomplete-scan finding.
var ErrTooLarge = errors.New("file exceeds the size limit")

// maxInstructions bounds the instructions kept from one Dockerfile.
const maxInstructions = 20_000

// dockerfileInput parses a Dockerfile into the policy input of package
// palisade.docker:
//
//	{
//	  "args":   [{"key", "value", "has_value", "line"}],   // ARGs before the first FROM
//	  "stages": [{
//	    "index", "name", "line",                            // name: the AS alias, lower-cased
//	    "image": {"ref", "name", "tag", "digest",           // the FROM reference, global ARG defaults substituted
//	              "scratch", "stage", "unresolved"},        // stage: refers to an earlier stage
//	    "user":  {"value", "line", "inherited"},            // effective USER, through stage references; absent if none
//	    "instructions": [{
//	      "cmd", "line", "end_line", "original",            // cmd lower-cased; lines 1-based
//	      "flags": {"name": "value"}, "args": [...],        // --name=value flags; the arguments as parsed
//	      "json",                                           // exec (JSON array) form
//	      "pairs": [{"key", "value", "has_value"}],         // ENV, ARG and LABEL
//	      "script",                                         // RUN: the shell script, heredocs appended
//	      "commands": [{"argv", "pipeline", "pos"}]         // RUN: simple commands, wrappers dropped
//	    }]
//	  }],
//	  "final": index of the last stage
//	}
func dockerfileInput(data []byte) (map[string]any, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse dockerfile: %w", err)
	}
	var (
		globalArgs = map[string]string{}
		args       []any
		stages     []map[string]any
		stageUsers []map[string]any
		stageNames = map[string]int{}
		cur        []any
		count      int
	)
	flush := func() {
		if len(stages) > 0 {
			stages[len(stages)-1]["instructions"] = cur
		}
		cur = []any{}
	}
	for _, n := range res.AST.Children {
		if count++; count > maxInstructions {
			return nil, fmt.Errorf("dockerfile has more than %d instructions: %w", maxInstructions, ErrTooLarge)
		}
		ins := instruction(n)
		cmd := ins["cmd"].(string)
		switch {
		case cmd == "from":
			flush()
			st := fromStage(n, len(stages), globalArgs, stageNames)
			if st["name"] != "" {
				stageNames[st["name"].(string)] = len(stages)
			}
			var user map[string]any
			if img := st["image"].(map[string]any); img["stage"] == true {
				if u := stageUsers[img["stage_index"].(int)]; u != nil {
					user = map[string]any{"value": u["value"], "line": u["line"], "inherited": true}
				}
			}
			stages = append(stages, st)
			stageUsers = append(stageUsers, user)
			continue
		case cmd == "arg" && len(stages) == 0:
			for _, p := range ins["pairs"].([]any) {
				p := p.(map[string]any)
				p["line"] = n.StartLine
				if p["has_value"] == true {
					globalArgs[p["key"].(string)] = p["value"].(string)
				}
				args = append(args, p)
			}
		case cmd == "user" && len(stages) > 0:
			if a := ins["args"].([]any); len(a) > 0 {
				stageUsers[len(stages)-1] = map[string]any{"value": a[0], "line": n.StartLine, "inherited": false}
			}
		}
		if len(stages) > 0 {
			cur = append(cur, ins)
		}
	}
	flush()
	out := make([]any, len(stages))
	for i, st := range stages {
		if stageUsers[i] != nil {
			st["user"] = stageUsers[i]
		}
		out[i] = st
	}
	if args == nil {
		args = []any{}
	}
	return map[string]any{"args": args, "stages": out, "final": len(stages) - 1}, nil
}

// instruction converts one parsed instruction.
func instruction(n *parser.Node) map[string]any {
	cmd := strings.ToLower(n.Value)
	flags := map[string]any{}
	for _, f := range n.Flags {
		name, value, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		flags[strings.ToLower(name)] = value
	}
	var words []string
	for a := n.Next; a != nil; a = a.Next {
		words = append(words, a.Value)
	}
	ins := map[string]any{
		"cmd": cmd, "line": n.StartLine, "end_line": n.EndLine, "original": n.Original,
		"flags": flags, "args": strs(words), "json": n.Attributes["json"],
	}
	switch cmd {
	case "env", "label":
		// Triplets of key, value and separator.
		pairs := []any{}
		for i := 0; i+1 < len(words); i += 3 {
			pairs = append(pairs, map[string]any{"key": words[i], "value": unquote(words[i+1]), "has_value": true})
		}
		ins["pairs"] = pairs
	case "arg":
		pairs := []any{}
		for _, w := range words {
			k, v, ok := strings.Cut(w, "=")
			pairs = append(pairs, map[string]any{"key": k, "value": unquote(v), "has_value": ok})
		}
		ins["pairs"] = pairs
	case "run":
		script := ""
		if n.Attributes["json"] {
			if len(words) >= 3 && isShell(words[0]) && words[1] == "-c" {
				script = words[2]
			} else {
				script = shellJoin(words)
			}
		} else if len(words) > 0 {
			script = words[0]
		}
		for _, h := range n.Heredocs {
			script += "\n" + h.Content
		}
		ins["script"] = script
		cmds := []any{}
		for _, c := range splitShell(script) {
			if a := argv(c.words); len(a) > 0 {
				cmds = append(cmds, map[string]any{"argv": strs(a), "pipeline": c.pipeline, "pos": c.pos})
			}
		}
		ins["commands"] = cmds
	}
	return ins
}

// fromStage builds a stage from its FROM instruction.
func fromStage(n *parser.Node, index int, globalArgs map[string]string, stageNames map[string]int) map[string]any {
	var words []string
	for a := n.Next; a != nil; a = a.Next {
		words = append(words, a.Value)
	}
	st := map[string]any{"index": index, "line": n.StartLine, "name": ""}
	if len(words) >= 3 && strings.EqualFold(words[1], "as") {
		st["name"] = strings.ToLower(words[2])
	}
	ref := ""
	if len(words) > 0 {
		ref = expandArgs(words[0], globalArgs)
	}
	img := parseImage(ref)
	if i, ok := stageNames[strings.ToLower(ref)]; ok {
		img["stage"] = true
		img["stage_index"] = i
	}
	st["image"] = img
	return st
}

// argRef matches $NAME, ${NAME} and ${NAME:-default}-style references.
var argRef = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))`)

// expandArgs substitutes the defaults of ARGs declared before the first
// FROM; references without a default stay as written.
func expandArgs(s string, args map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := argRef.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := args[name]; ok && v != "" {
			return v
		}
		if sub[1] != "" {
			// ${NAME:-default}: use the default.
			if i := strings.Index(m, ":-"); i >= 0 {
				return strings.TrimSuffix(m[i+2:], "}")
			}
		}
		return m
	})
}

// parseImage splits an image reference into name, tag and digest.
func parseImage(ref string) map[string]any {
	img := map[string]any{
		"ref": ref, "name": "", "tag": "", "digest": "",
		"scratch": strings.EqualFold(ref, "scratch"), "stage": false,
		"unresolved": strings.Contains(ref, "$") || ref == "",
	}
	name := ref
	if i := strings.IndexByte(name, '@'); i >= 0 {
		img["digest"] = name[i+1:]
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.Contains(name[i:], "/") {
		img["tag"] = name[i+1:]
		name = name[:i]
	}
	img["name"] = name
	return img
}

func isShell(s string) bool {
	switch pathBase(s) {
	case "sh", "bash", "dash", "ash", "zsh", "ksh":
		return true
	}
	return false
}

func pathBase(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// shellJoin joins exec-form words into a script, quoting each.
func shellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// unquote removes one level of matching quotes around an ENV or ARG value.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
