package sbom

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/xeipuuv/gojsonschema"
)

// TestBuildValidatesAgainstSchema checks Build's output against the
// CycloneDX 1.6 JSON schema (offline: the schema and the two it refers to
// are in testdata/schema).
func TestBuildValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	sl := gojsonschema.NewSchemaLoader()
	for _, name := range []string{"spdx.schema.json", "jsf-0.82.schema.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "schema", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := sl.AddSchema("http://cyclonedx.org/schema/"+name, gojsonschema.NewBytesLoader(data)); err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
	}
	main, err := os.ReadFile(filepath.Join("testdata", "schema", "bom-1.6.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	schema, err := sl.Compile(gojsonschema.NewBytesLoader(main))
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	// The schema is really checked: a bad component type fails.
	bad := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"bogus","name":"x"}]}`)
	if res, err := schema.Validate(gojsonschema.NewBytesLoader(bad)); err != nil || res.Valid() {
		t.Fatalf("a bogus component type validates (err %v)", err)
	}
	meta, pkgs, models := fixture(t)
	models = append(models, Model{Path: "x", Card: &ModelCard{License: []string{"other"}, LicenseName: "fake", BaseModel: []string{"a"}, PipelineTag: "fill-mask"}})
	for name, doc := range map[string][]byte{
		"fixture": render(t, Build(meta, pkgs, models)),
		"empty":   render(t, Build(Meta{}, nil, nil)),
	} {
		res, err := schema.Validate(gojsonschema.NewBytesLoader(doc))
		if err != nil {
			t.Fatalf("%s: validate: %v", name, err)
		}
		for _, e := range res.Errors() {
			t.Errorf("%s: %s", name, e)
		}
	}
}
