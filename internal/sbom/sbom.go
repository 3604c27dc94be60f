package sbom

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Package is a dependency found in the scanned tree.
type Package struct {
	Name      string
	Version   string // "" when no exact version is pinned
	Ecosystem string // EcosystemPyPI, EcosystemGo, EcosystemNPM or EcosystemConda
	// Locations are where the package is declared: "path:line", or "path"
	// when the line is unknown; paths slash-separated.
	Locations []string
}

// Model is a model file found in the scanned tree.
type Model struct {
	// Name is the component name when the card names no model: by
	// convention the file's path relative to the scanned root.
	Name string
	// Version is the model's revision when known (a Hugging Face cache
	// snapshot's commit), else "".
	Version string
	Path    string // slash-separated path of the file as walked
	Format  string // the model format the content shows: a scan.Format such as "safetensors", or "pytorch", "keras" or "npz" for zips
	Size    int64
	SHA256  string     // lower-case hex digest of the whole file
	Card    *ModelCard // the model card found for the file, or nil
}

// Meta describes the bill of materials itself.
type Meta struct {
	RootName    string    // name of the scanned root, the BOM's subject
	ToolVersion string    // palisade's version
	Time        time.Time // the BOM's timestamp; zero leaves it out
	// Serial is the serial number ("urn:uuid:..."); "" makes a random
	// one from Rand.
	Serial string
	Rand   io.Reader // source of the serial number; nil means crypto/rand
}

// SpecVersion is the CycloneDX version Build produces.
const SpecVersion = cdx.SpecVersion1_6

const schema16 = "http://cyclonedx.org/schema/bom-1.6.schema.json"

// Property names. CycloneDX properties are free-form; these are under
// palisade's namespace.
const (
	PropFormat      = "palisade:model:format"
	PropPath        = "palisade:model:path"
	PropSize        = "palisade:model:size"
	PropCard        = "palisade:modelcard:path"
	PropLanguage    = "palisade:modelcard:language"
	PropLibraryName = "palisade:modelcard:library_name"
	PropEcosystem   = "palisade:package:ecosystem"
)

// rootRef is the bom-ref of the metadata component, the scanned root.
const rootRef = "root"

// Build returns the bill of materials for the packages and models found.
// Packages are merged by ecosystem, normalised name and version, with all
// their locations; models are listed once per path. Components are sorted
// (models, then the datasets their cards name, then packages), so the
// same input and Meta always give the same document.
func Build(meta Meta, pkgs []Package, models []Model) *cdx.BOM {
	bom := &cdx.BOM{
		JSONSchema:   schema16,
		BOMFormat:    cdx.BOMFormat,
		SpecVersion:  SpecVersion,
		Version:      1,
		SerialNumber: meta.Serial,
	}
	if bom.SerialNumber == "" {
		bom.SerialNumber = newSerial(meta.Rand)
	}
	md := &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "palisade", Version: meta.ToolVersion,
			Group: "palisade-sec",
		}}},
		Component: &cdx.Component{BOMRef: rootRef, Type: cdx.ComponentTypeApplication, Name: cmp.Or(meta.RootName, "unnamed")},
	}
	if !meta.Time.IsZero() {
		md.Timestamp = meta.Time.UTC().Format(time.RFC3339)
	}
	bom.Metadata = md

	refs := map[string]bool{rootRef: true}
	unique := func(ref string) string {
		r := ref
		for i := 2; refs[r]; i++ {
			r = ref + "#" + strconv.Itoa(i)
		}
		refs[r] = true
		return r
	}
	var comps []cdx.Component
	datasets := map[string]string{} // dataset id -> bom-ref
	for _, m := range mergeModels(models) {
		comps = append(comps, modelComponent(m, unique, datasets))
	}
	ids := make([]string, 0, len(datasets))
	for id := range datasets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		comps = append(comps, cdx.Component{
			BOMRef: datasets[id], Type: cdx.ComponentTypeData, Name: id,
			Data: &[]cdx.ComponentData{{Type: cdx.ComponentDataTypeDataset, Name: id}},
		})
	}
	for _, p := range MergePackages(pkgs) {
		comps = append(comps, packageComponent(p, unique))
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}
	return bom
}

// Write encodes bom as indented CycloneDX JSON.
func Write(w io.Writer, bom *cdx.BOM) error {
	enc := cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(bom); err != nil {
		return fmt.Errorf("encode CycloneDX: %w", err)
	}
	return nil
}

// newSerial returns a random version-4 UUID URN, or "" when r fails (the
// serial number is optional).
func newSerial(r io.Reader) string {
	var u [16]byte
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return ""
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// pkgKey identifies a package for merging.
type pkgKey struct{ eco, name, version string }

func keyOf(p Package) pkgKey {
	name := p.Name
	switch p.Ecosystem {
	case EcosystemPyPI:
		name = pep503(name)
	case EcosystemConda:
		name = strings.ToLower(name)
	case EcosystemGo:
		name = strings.ToLower(name)
	}
	v := p.Version
	if p.Ecosystem == EcosystemGo {
		v = goVersion(v)
	}
	return pkgKey{p.Ecosystem, name, v}
}

// pep503 normalises a PyPI name: lower case, runs of "-", "_" and "." as
// one "-".
func pep503(n string) string {
	var b strings.Builder
	sep := false
	for _, c := range strings.ToLower(n) {
		if c == '-' || c == '_' || c == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(c)
	}
	return b.String()
}

// MergePackages merges packages that are the same ecosystem, name (as the
// ecosystem compares names) and version, keeping every location once, and
// sorts the result by ecosystem, name and version. The name kept is the
// smallest spelling seen; packages without a name are dropped.
func MergePackages(pkgs []Package) []Package {
	byKey := map[pkgKey]*Package{}
	var keys []pkgKey
	for _, p := range pkgs {
		if strings.TrimSpace(p.Name) == "" {
			continue
		}
		k := keyOf(p)
		m, ok := byKey[k]
		if !ok {
			m = &Package{Name: p.Name, Version: k.version, Ecosystem: p.Ecosystem}
			byKey[k] = m
			keys = append(keys, k)
		}
		if p.Name < m.Name {
			m.Name = p.Name
		}
		m.Locations = append(m.Locations, p.Locations...)
	}
	slices.SortFunc(keys, func(a, b pkgKey) int {
		return cmp.Or(cmp.Compare(a.eco, b.eco), cmp.Compare(a.name, b.name), cmp.Compare(a.version, b.version))
	})
	out := make([]Package, 0, len(keys))
	for _, k := range keys {
		p := byKey[k]
		slices.Sort(p.Locations)
		p.Locations = slices.Compact(p.Locations)
		out = append(out, *p)
	}
	return out
}

// mergeModels sorts models by path and drops repeated paths.
func mergeModels(models []Model) []Model {
	out := slices.Clone(models)
	slices.SortStableFunc(out, func(a, b Model) int { return cmp.Compare(a.Path, b.Path) })
	return slices.CompactFunc(out, func(a, b Model) bool { return a.Path == b.Path })
}

func packageComponent(p Package, unique func(string) string) cdx.Component {
	purl := PURL(p)
	c := cdx.Component{
		Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: purl,
	}
	if purl != "" {
		c.BOMRef = unique(purl)
	} else {
		c.BOMRef = unique("pkg:" + strings.ToLower(p.Ecosystem) + "/" + p.Name + "@" + p.Version)
		c.Properties = &[]cdx.Property{{Name: PropEcosystem, Value: p.Ecosystem}}
	}
	if len(p.Locations) > 0 {
		occ := make([]cdx.EvidenceOccurrence, 0, len(p.Locations))
		for _, l := range p.Locations {
			occ = append(occ, occurrence(l))
		}
		c.Evidence = &cdx.Evidence{Occurrences: &occ}
	}
	return c
}

// occurrence turns "path:line" into an evidence occurrence.
func occurrence(loc string) cdx.EvidenceOccurrence {
	if i := strings.LastIndexByte(loc, ':'); i > 0 {
		if n, err := strconv.Atoi(loc[i+1:]); err == nil && n > 0 {
			return cdx.EvidenceOccurrence{Location: loc[:i], Line: &n}
		}
	}
	return cdx.EvidenceOccurrence{Location: loc}
}

func modelComponent(m Model, unique func(string) string, datasets map[string]string) cdx.Component {
	c := cdx.Component{
		BOMRef:  unique("model:" + m.Path),
		Type:    cdx.ComponentTypeMachineLearningModel,
		Name:    cmp.Or(m.Name, m.Path),
		Version: m.Version,
	}
	if m.SHA256 != "" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: strings.ToLower(m.SHA256)}}
	}
	props := []cdx.Property{
		{Name: PropFormat, Value: m.Format},
		{Name: PropPath, Value: m.Path},
		{Name: PropSize, Value: strconv.FormatInt(m.Size, 10)},
	}
	if card := m.Card; card != nil {
		if card.ModelName != "" {
			c.Name = card.ModelName
		}
		if card.Source != "" {
			props = append(props, cdx.Property{Name: PropCard, Value: card.Source})
		}
		for _, l := range card.Language {
			props = append(props, cdx.Property{Name: PropLanguage, Value: l})
		}
		if card.LibraryName != "" {
			props = append(props, cdx.Property{Name: PropLibraryName, Value: card.LibraryName})
		}
		if lic := licenses(card); len(lic) > 0 {
			c.Licenses = &lic
		}
		if len(card.Tags) > 0 {
			tags := slices.Clone(card.Tags)
			c.Tags = &tags
		}
		if len(card.BaseModel) > 0 {
			anc := make([]cdx.Component, 0, len(card.BaseModel))
			for _, b := range card.BaseModel {
				anc = append(anc, cdx.Component{Type: cdx.ComponentTypeMachineLearningModel, Name: b})
			}
			c.Pedigree = &cdx.Pedigree{Ancestors: &anc}
		}
		params := &cdx.MLModelParameters{Task: card.PipelineTag}
		if len(card.Datasets) > 0 {
			ds := make([]cdx.MLDatasetChoice, 0, len(card.Datasets))
			for _, d := range card.Datasets {
				ref, ok := datasets[d]
				if !ok {
					ref = unique("dataset:" + d)
					datasets[d] = ref
				}
				ds = append(ds, cdx.MLDatasetChoice{Ref: ref})
			}
			params.Datasets = &ds
		}
		if params.Task != "" || params.Datasets != nil {
			c.ModelCard = &cdx.MLModelCard{ModelParameters: params}
		}
	}
	slices.SortStableFunc(props, func(a, b cdx.Property) int { return cmp.Compare(a.Name, b.Name) })
	c.Properties = &props
	return c
}

// licenses maps a card's license ids to CycloneDX licenses: an SPDX id
// where the Hub's id names exactly one SPDX license, a name otherwise.
func licenses(card *ModelCard) cdx.Licenses {
	var out cdx.Licenses
	for _, l := range card.License {
		lic := &cdx.License{Name: l}
		switch id, ok := spdxIDs[strings.ToLower(l)]; {
		case ok:
			lic = &cdx.License{ID: id}
		case strings.EqualFold(l, "other") && card.LicenseName != "":
			lic = &cdx.License{Name: card.LicenseName}
		}
		out = append(out, cdx.LicenseChoice{License: lic})
	}
	return out
}

// spdxIDs maps the Hugging Face Hub's license ids to SPDX ids where the
// mapping is unambiguous (the Hub's "gpl-3.0" could be -only or
// -or-later, so it stays a name).
var spdxIDs = map[string]string{
	"apache-2.0": "Apache-2.0", "apache-1.1": "Apache-1.1", "mit": "MIT",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-3-clause-clear": "BSD-3-Clause-Clear",
	"isc": "ISC", "unlicense": "Unlicense", "wtfpl": "WTFPL", "zlib": "Zlib", "bsl-1.0": "BSL-1.0",
	"mpl-2.0": "MPL-2.0", "epl-1.0": "EPL-1.0", "epl-2.0": "EPL-2.0", "ecl-2.0": "ECL-2.0",
	"eupl-1.1": "EUPL-1.1", "eupl-1.2": "EUPL-1.2", "afl-3.0": "AFL-3.0", "osl-3.0": "OSL-3.0",
	"artistic-2.0": "Artistic-2.0", "ms-pl": "MS-PL", "ncsa": "NCSA", "postgresql": "PostgreSQL",
	"ofl-1.1": "OFL-1.1", "lppl-1.3c": "LPPL-1.3c", "odbl": "ODbL-1.0", "odc-by": "ODC-By-1.0",
	"pddl": "PDDL-1.0", "cc0-1.0": "CC0-1.0",
	"cc-by-2.0": "CC-BY-2.0", "cc-by-2.5": "CC-BY-2.5", "cc-by-3.0": "CC-BY-3.0", "cc-by-4.0": "CC-BY-4.0",
	"cc-by-sa-3.0": "CC-BY-SA-3.0", "cc-by-sa-4.0": "CC-BY-SA-4.0",
	"cc-by-nc-2.0": "CC-BY-NC-2.0", "cc-by-nc-3.0": "CC-BY-NC-3.0", "cc-by-nc-4.0": "CC-BY-NC-4.0",
	"cc-by-nd-4.0": "CC-BY-ND-4.0", "cc-by-nc-nd-3.0": "CC-BY-NC-ND-3.0", "cc-by-nc-nd-4.0": "CC-BY-NC-ND-4.0",
	"cc-by-nc-sa-2.0": "CC-BY-NC-SA-2.0", "cc-by-nc-sa-3.0": "CC-BY-NC-SA-3.0", "cc-by-nc-sa-4.0": "CC-BY-NC-SA-4.0",
}
