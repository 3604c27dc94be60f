package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bounds of the YAML reader. Aliases count towards maxNodes each time
// they are expanded, so an alias bomb stops at the node budget.
const (
	maxDocuments = 1000
	maxDepth     = 64
	maxNodes     = 500_000
)

// errBudget reports a YAML file beyond the node or depth bounds.
var errBudget = errors.New("yaml nesting or size exceeds the reader's bounds")

// k8sObject is one Kubernetes object read from a YAML file.
type k8sObject struct {
	value     map[string]any
	node      *yaml.Node // the object's mapping node, for path-to-line lookups
	line      int
	doc       int
	kind      string
	name      string
	namespace string
	podSpec   []string // path to the pod spec; nil for objects without one
}

// podSpecPaths gives, per workload kind, where its pod spec lives.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"PodTemplate":           {"template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// yamlReader converts YAML nodes to plain values within a node budget.
type yamlReader struct {
	nodes int
}

// readKubernetes reads every object of a multi-document YAML file. Items
// of List kinds (List, PodList, DeploymentList, ...) are objects of their
// own. Documents that are not mappings with a kind are skipped.
func readKubernetes(data []byte) ([]k8sObject, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	r := &yamlReader{}
	var objs []k8sObject
	for doc := 0; ; doc++ {
		if doc >= maxDocuments {
			return objs, fmt.Errorf("more than %d yaml documents: %w", maxDocuments, errBudget)
		}
		var root yaml.Node
		err := dec.Decode(&root)
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return objs, fmt.Errorf("parse yaml document %d: %w", doc+1, err)
		}
		n := &root
		if n.Kind == yaml.DocumentNode {
			if len(n.Content) == 0 {
				continue
			}
			n = n.Content[0]
		}
		n = resolveAlias(n)
		if n.Kind != yaml.MappingNode {
			continue
		}
		v, err := r.value(n, 0)
		if err != nil {
			return objs, fmt.Errorf("read yaml document %d: %w", doc+1, err)
		}
		m, _ := v.(map[string]any)
		kind, _ := m["kind"].(string)
		items, isList := m["items"].([]any)
		if isList && strings.HasSuffix(kind, "List") {
			itemsNode := child(n, "items")
			for i, it := range items {
				im, ok := it.(map[string]any)
				if !ok {
					continue
				}
				var in *yaml.Node
				if itemsNode != nil && i < len(itemsNode.Content) {
					in = resolveAlias(itemsNode.Content[i])
				}
				objs = append(objs, newObject(im, in, doc))
			}
			continue
		}
		if kind == "" {
			continue
		}
		objs = append(objs, newObject(m, n, doc))
	}
}

func newObject(m map[string]any, n *yaml.Node, doc int) k8sObject {
	o := k8sObject{value: m, node: n, doc: doc}
	if n != nil {
		o.line = n.Line
	}
	o.kind, _ = m["kind"].(string)
	if md, ok := m["metadata"].(map[string]any); ok {
		o.name, _ = md["name"].(string)
		o.namespace, _ = md["namespace"].(string)
	}
	if o.namespace == "" {
		o.namespace = "default"
	}
	if p, ok := podSpecPaths[o.kind]; ok {
		if _, ok := dig(m, p).(map[string]any); ok {
			o.podSpec = p
		}
	}
	return o
}

// dig follows a path of keys through nested maps.
func dig(v any, path []string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// child returns the value node of key in mapping n.
func child(n *yaml.Node, key string) *yaml.Node {
	n = resolveAlias(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}

// value converts a node to nil, bool, string, json.Number, []any or
// map[string]any. Merge keys (<<) are applied the way YAML 1.1 readers
// apply them: explicit keys win.
func (r *yamlReader) value(n *yaml.Node, depth int) (any, error) {
	if r.nodes++; r.nodes > maxNodes {
		return nil, fmt.Errorf("more than %d nodes: %w", maxNodes, errBudget)
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d: %w", maxDepth, errBudget)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
		}
		return r.value(n.Alias, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return r.value(n.Content[0], depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := r.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				merges = append(merges, n.Content[i+1])
				continue
			}
			v, err := r.value(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		for _, m := range merges {
			mv, err := r.value(m, depth+1)
			if err != nil {
				return nil, err
			}
			var srcs []any
			switch mv := mv.(type) {
			case map[string]any:
				srcs = []any{mv}
			case []any:
				srcs = mv
			}
			for _, s := range srcs {
				if sm, ok := s.(map[string]any); ok {
					for k, v := range sm {
						if _, ok := out[k]; !ok {
							out[k] = v
						}
					}
				}
			}
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n), nil
	}
	return nil, nil
}

// scalar resolves a scalar by its tag, as Kubernetes' YAML reader does.
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
		var u uint64
		if n.Decode(&u) == nil {
			return json.Number(strconv.FormatUint(u, 10))
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return n.Value
}

// lineOf returns the line of the deepest node on a dotted path such as
// "spec.template.spec.containers[0].securityContext" below n: the key's
// line for a mapping entry, the item's for a sequence element. It stops
// at the first step that does not exist.
func lineOf(n *yaml.Node, path string) int {
	n = resolveAlias(n)
	if n == nil {
		return 0
	}
	line := n.Line
	for _, step := range splitPath(path) {
		n = resolveAlias(n)
		if n == nil {
			break
		}
		if step.index >= 0 {
			if n.Kind != yaml.SequenceNode || step.index >= len(n.Content) {
				break
			}
			n = n.Content[step.index]
			line = n.Line
			continue
		}
		if n.Kind != yaml.MappingNode {
			break
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == step.key {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}

type pathStep struct {
	key   string
	index int // -1 for a key
}

// splitPath splits "a.b[2].c" into steps. Keys containing dots cannot be
// addressed; annotations are not worth the syntax.
func splitPath(p string) []pathStep {
	var out []pathStep
	for _, part := range strings.Split(p, ".") {
		key := part
		var idx []int
		for {
			open := strings.LastIndexByte(key, '[')
			if open < 0 || !strings.HasSuffix(key, "]") {
				break
			}
			i, err := strconv.Atoi(key[open+1 : len(key)-1])
			if err != nil || i < 0 {
				break
			}
			idx = append([]int{i}, idx...)
			key = key[:open]
		}
		if key != "" {
			out = append(out, pathStep{key: key, index: -1})
		}
		for _, i := range idx {
			out = append(out, pathStep{index: i})
		}
	}
	return out
}
