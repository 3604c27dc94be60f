package savedmodel

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// kind is the protobuf type class of a known field, which fixes its wire
// type.
type kind uint8

const (
	kindVarint  kind = iota + 1 // int32, int64, uint64, enum, bool
	kindFixed32                 // float
	kindFixed64                 // double
	kindBytes                   // string, bytes, message
)

func (k kind) wireType() protowire.Type {
	switch k {
	case kindFixed32:
		return protowire.Fixed32Type
	case kindFixed64:
		return protowire.Fixed64Type
	case kindBytes:
		return protowire.BytesType
	default:
		return protowire.VarintType
	}
}

// fieldSpec describes one field of a message as the TensorFlow protos declare it.
type fieldSpec struct {
	name     string
	kind     kind
	repeated bool // a repeated scalar may also arrive packed (length-delimited)
}

// msgSpec is the schema of one message: its known fields by number. Fields
// not listed are skipped (forward compatibility), but a known field with the
// wrong wire type is malformed.
type msgSpec struct {
	name   string
	fields []fieldSpec // indexed by field number; a zero fieldSpec is unknown
}

func spec(name string, fields map[protowire.Number]fieldSpec) *msgSpec {
	hi := protowire.Number(0)
	for n := range fields {
		hi = max(hi, n)
	}
	m := &msgSpec{name: name, fields: make([]fieldSpec, hi+1)}
	for n, f := range fields {
		m.fields[n] = f
	}
	return m
}

// check validates f's wire type against the schema.
func (m *msgSpec) check(w *wireReader, f field) error {
	if int(f.num) >= len(m.fields) || m.fields[f.num].kind == 0 {
		return nil
	}
	fs := m.fields[f.num]
	want := fs.kind.wireType()
	if f.typ == want {
		return nil
	}
	if fs.repeated && fs.kind != kindBytes && f.typ == protowire.BytesType {
		return checkPacked(w, m, fs, f)
	}
	return &malformedError{off: f.off, msg: fmt.Sprintf("%s.%s (field %d) has wire type %s, want %s",
		m.name, fs.name, f.num, typeName(f.typ), typeName(want))}
}

// checkPacked validates the framing of a packed repeated scalar without
// reading its (possibly huge) payload: fixed-width elements must fill it
// exactly and the last varint must be complete.
func checkPacked(w *wireReader, m *msgSpec, fs fieldSpec, f field) error {
	bad := func(what string) error {
		return &malformedError{off: f.off, msg: fmt.Sprintf("%s.%s (field %d): packed payload of %d bytes %s", m.name, fs.name, f.num, f.n, what)}
	}
	switch fs.kind {
	case kindFixed32:
		if f.n%4 != 0 {
			return bad("is not a whole number of 4-byte values")
		}
	case kindFixed64:
		if f.n%8 != 0 {
			return bad("is not a whole number of 8-byte values")
		}
	default:
		if f.n == 0 {
			return nil
		}
		b, err := w.at(f.end-1, 1)
		if err != nil {
			return err
		}
		if b[0]&0x80 != 0 {
			return bad("ends inside a varint")
		}
	}
	return nil
}

func typeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType:
		return "start-group"
	case protowire.EndGroupType:
		return "end-group"
	}
	return fmt.Sprintf("%d", t)
}

// Schemas of the TensorFlow messages the scanner walks (field numbers from
// the public saved_model.proto, meta_graph.proto, graph.proto,
// node_def.proto, attr_value.proto, tensor.proto, function.proto,
// op_def.proto, saved_object_graph.proto and Keras' saved_metadata.proto).
var (
	savedModelSpec = spec("SavedModel", map[protowire.Number]fieldSpec{
		1: {"saved_model_schema_version", kindVarint, false},
		2: {"meta_graphs", kindBytes, true},
	})
	metaGraphSpec = spec("MetaGraphDef", map[protowire.Number]fieldSpec{
		1: {"meta_info_def", kindBytes, false},
		2: {"graph_def", kindBytes, false},
		3: {"saver_def", kindBytes, false},
		4: {"collection_def", kindBytes, true},
		5: {"signature_def", kindBytes, true},
		6: {"asset_file_def", kindBytes, true},
		7: {"object_graph_def", kindBytes, false},
	})
	graphDefSpec = spec("GraphDef", map[protowire.Number]fieldSpec{
		1: {"node", kindBytes, true},
		2: {"library", kindBytes, false},
		3: {"version", kindVarint, false},
		4: {"versions", kindBytes, false},
		5: {"debug_info", kindBytes, false},
	})
	nodeDefSpec = spec("NodeDef", map[protowire.Number]fieldSpec{
		1: {"name", kindBytes, false},
		2: {"op", kindBytes, false},
		3: {"input", kindBytes, true},
		4: {"device", kindBytes, false},
		5: {"attr", kindBytes, true},
		6: {"experimental_debug_info", kindBytes, false},
		7: {"experimental_type", kindBytes, false},
	})
	attrEntrySpec = spec("NodeDef.AttrEntry", map[protowire.Number]fieldSpec{
		1: {"key", kindBytes, false},
		2: {"value", kindBytes, false},
	})
	attrValueSpec = spec("AttrValue", map[protowire.Number]fieldSpec{
		1:  {"list", kindBytes, false},
		2:  {"s", kindBytes, false},
		3:  {"i", kindVarint, false},
		4:  {"f", kindFixed32, false},
		5:  {"b", kindVarint, false},
		6:  {"type", kindVarint, false},
		7:  {"shape", kindBytes, false},
		8:  {"tensor", kindBytes, false},
		9:  {"placeholder", kindBytes, false},
		10: {"func", kindBytes, false},
	})
	listValueSpec = spec("AttrValue.ListValue", map[protowire.Number]fieldSpec{
		2: {"s", kindBytes, true},
		3: {"i", kindVarint, true},
		4: {"f", kindFixed32, true},
		5: {"b", kindVarint, true},
		6: {"type", kindVarint, true},
		7: {"shape", kindBytes, true},
		8: {"tensor", kindBytes, true},
		9: {"func", kindBytes, true},
	})
	tensorSpec = spec("TensorProto", map[protowire.Number]fieldSpec{
		1:  {"dtype", kindVarint, false},
		2:  {"tensor_shape", kindBytes, false},
		3:  {"version_number", kindVarint, false},
		4:  {"tensor_content", kindBytes, false},
		5:  {"float_val", kindFixed32, true},
		6:  {"double_val", kindFixed64, true},
		7:  {"int_val", kindVarint, true},
		8:  {"string_val", kindBytes, true},
		9:  {"scomplex_val", kindFixed32, true},
		10: {"int64_val", kindVarint, true},
		11: {"bool_val", kindVarint, true},
		12: {"dcomplex_val", kindFixed64, true},
		13: {"half_val", kindVarint, true},
		14: {"resource_handle_val", kindBytes, true},
		15: {"variant_val", kindBytes, true},
		16: {"uint32_val", kindVarint, true},
		17: {"uint64_val", kindVarint, true},
		18: {"float8_val", kindBytes, false},
	})
	librarySpec = spec("FunctionDefLibrary", map[protowire.Number]fieldSpec{
		1: {"function", kindBytes, true},
		2: {"gradient", kindBytes, true},
		3: {"registered_gradients", kindBytes, true},
	})
	functionDefSpec = spec("FunctionDef", map[protowire.Number]fieldSpec{
		1: {"signature", kindBytes, false},
		3: {"node_def", kindBytes, true},
		4: {"ret", kindBytes, true},
		5: {"attr", kindBytes, true},
		6: {"control_ret", kindBytes, true},
		7: {"arg_attr", kindBytes, true},
		8: {"resource_arg_unique_id", kindBytes, true},
	})
	opDefSpec = spec("OpDef", map[protowire.Number]fieldSpec{
		1: {"name", kindBytes, false},
		2: {"input_arg", kindBytes, true},
		3: {"output_arg", kindBytes, true},
		4: {"attr", kindBytes, true},
	})
	assetFileSpec = spec("AssetFileDef", map[protowire.Number]fieldSpec{
		1: {"tensor_info", kindBytes, false},
		2: {"filename", kindBytes, false},
	})
	objectGraphSpec = spec("SavedObjectGraph", map[protowire.Number]fieldSpec{
		1: {"nodes", kindBytes, true},
		2: {"concrete_functions", kindBytes, true},
	})
	savedObjectSpec = spec("SavedObject", map[protowire.Number]fieldSpec{
		1:  {"children", kindBytes, true},
		3:  {"slot_variables", kindBytes, true},
		4:  {"user_object", kindBytes, false},
		5:  {"asset", kindBytes, false},
		6:  {"function", kindBytes, false},
		7:  {"variable", kindBytes, false},
		8:  {"bare_concrete_function", kindBytes, false},
		9:  {"constant", kindBytes, false},
		10: {"resource", kindBytes, false},
		11: {"saveable_objects", kindBytes, true},
		12: {"captured_tensor", kindBytes, false},
		13: {"registered_name", kindBytes, false},
		14: {"serialized_user_proto", kindBytes, false},
		15: {"dependencies", kindBytes, true},
		16: {"registered_saver", kindBytes, false},
	})
	userObjectSpec = spec("SavedUserObject", map[protowire.Number]fieldSpec{
		1: {"identifier", kindBytes, false},
		2: {"version", kindBytes, false},
		3: {"metadata", kindBytes, false},
	})
	kerasMetadataSpec = spec("SavedMetadata", map[protowire.Number]fieldSpec{
		1: {"nodes", kindBytes, true},
	})
	kerasObjectSpec = spec("SavedMetadata.SavedObject", map[protowire.Number]fieldSpec{
		1: {"version", kindBytes, false},
		2: {"node_id", kindVarint, false},
		3: {"node_path", kindBytes, false},
		4: {"identifier", kindBytes, false},
		5: {"metadata", kindBytes, false},
	})
)
