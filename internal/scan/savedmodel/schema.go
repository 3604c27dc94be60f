package savedmodel

import "github.com/palisade-sec/palisade/internal/scan/protowalk"

// Schemas of the TensorFlow messages the scanner walks (field numbers from
// the public saved_model.proto, meta_graph.proto, graph.proto,
// node_def.proto, attr_value.proto, tensor.proto, function.proto,
// op_def.proto, saved_object_graph.proto and Keras' saved_metadata.proto).
var (
	savedModelSpec = protowalk.NewMessage("SavedModel", protowalk.Fields{
		1: protowalk.Singular("saved_model_schema_version", protowalk.Varint),
		2: protowalk.Repeated("meta_graphs", protowalk.Bytes),
	})
	metaGraphSpec = protowalk.NewMessage("MetaGraphDef", protowalk.Fields{
		1: protowalk.Singular("meta_info_def", protowalk.Bytes),
		2: protowalk.Singular("graph_def", protowalk.Bytes),
		3: protowalk.Singular("saver_def", protowalk.Bytes),
		4: protowalk.Repeated("collection_def", protowalk.Bytes),
		5: protowalk.Repeated("signature_def", protowalk.Bytes),
		6: protowalk.Repeated("asset_file_def", protowalk.Bytes),
		7: protowalk.Singular("object_graph_def", protowalk.Bytes),
	})
	graphDefSpec = protowalk.NewMessage("GraphDef", protowalk.Fields{
		1: protowalk.Repeated("node", protowalk.Bytes),
		2: protowalk.Singular("library", protowalk.Bytes),
		3: protowalk.Singular("version", protowalk.Varint),
		4: protowalk.Singular("versions", protowalk.Bytes),
		5: protowalk.Singular("debug_info", protowalk.Bytes),
	})
	nodeDefSpec = protowalk.NewMessage("NodeDef", protowalk.Fields{
		1: protowalk.Singular("name", protowalk.Bytes),
		2: protowalk.Singular("op", protowalk.Bytes),
		3: protowalk.Repeated("input", protowalk.Bytes),
		4: protowalk.Singular("device", protowalk.Bytes),
		5: protowalk.Repeated("attr", protowalk.Bytes),
		6: protowalk.Singular("experimental_debug_info", protowalk.Bytes),
		7: protowalk.Singular("experimental_type", protowalk.Bytes),
	})
	attrEntrySpec = protowalk.NewMessage("NodeDef.AttrEntry", protowalk.Fields{
		1: protowalk.Singular("key", protowalk.Bytes),
		2: protowalk.Singular("value", protowalk.Bytes),
	})
	attrValueSpec = protowalk.NewMessage("AttrValue", protowalk.Fields{
		1:  protowalk.Singular("list", protowalk.Bytes),
		2:  protowalk.Singular("s", protowalk.Bytes),
		3:  protowalk.Singular("i", protowalk.Varint),
		4:  protowalk.Singular("f", protowalk.Fixed32),
		5:  protowalk.Singular("b", protowalk.Varint),
		6:  protowalk.Singular("type", protowalk.Varint),
		7:  protowalk.Singular("shape", protowalk.Bytes),
		8:  protowalk.Singular("tensor", protowalk.Bytes),
		9:  protowalk.Singular("placeholder", protowalk.Bytes),
		10: protowalk.Singular("func", protowalk.Bytes),
	})
	listValueSpec = protowalk.NewMessage("AttrValue.ListValue", protowalk.Fields{
		2: protowalk.Repeated("s", protowalk.Bytes),
		3: protowalk.Repeated("i", protowalk.Varint),
		4: protowalk.Repeated("f", protowalk.Fixed32),
		5: protowalk.Repeated("b", protowalk.Varint),
		6: protowalk.Repeated("type", protowalk.Varint),
		7: protowalk.Repeated("shape", protowalk.Bytes),
		8: protowalk.Repeated("tensor", protowalk.Bytes),
		9: protowalk.Repeated("func", protowalk.Bytes),
	})
	tensorSpec = protowalk.NewMessage("TensorProto", protowalk.Fields{
		1:  protowalk.Singular("dtype", protowalk.Varint),
		2:  protowalk.Singular("tensor_shape", protowalk.Bytes),
		3:  protowalk.Singular("version_number", protowalk.Varint),
		4:  protowalk.Singular("tensor_content", protowalk.Bytes),
		5:  protowalk.Repeated("float_val", protowalk.Fixed32),
		6:  protowalk.Repeated("double_val", protowalk.Fixed64),
		7:  protowalk.Repeated("int_val", protowalk.Varint),
		8:  protowalk.Repeated("string_val", protowalk.Bytes),
		9:  protowalk.Repeated("scomplex_val", protowalk.Fixed32),
		10: protowalk.Repeated("int64_val", protowalk.Varint),
		11: protowalk.Repeated("bool_val", protowalk.Varint),
		12: protowalk.Repeated("dcomplex_val", protowalk.Fixed64),
		13: protowalk.Repeated("half_val", protowalk.Varint),
		14: protowalk.Repeated("resource_handle_val", protowalk.Bytes),
		15: protowalk.Repeated("variant_val", protowalk.Bytes),
		16: protowalk.Repeated("uint32_val", protowalk.Varint),
		17: protowalk.Repeated("uint64_val", protowalk.Varint),
		18: protowalk.Singular("float8_val", protowalk.Bytes),
	})
	librarySpec = protowalk.NewMessage("FunctionDefLibrary", protowalk.Fields{
		1: protowalk.Repeated("function", protowalk.Bytes),
		2: protowalk.Repeated("gradient", protowalk.Bytes),
		3: protowalk.Repeated("registered_gradients", protowalk.Bytes),
	})
	functionDefSpec = protowalk.NewMessage("FunctionDef", protowalk.Fields{
		1: protowalk.Singular("signature", protowalk.Bytes),
		3: protowalk.Repeated("node_def", protowalk.Bytes),
		4: protowalk.Repeated("ret", protowalk.Bytes),
		5: protowalk.Repeated("attr", protowalk.Bytes),
		6: protowalk.Repeated("control_ret", protowalk.Bytes),
		7: protowalk.Repeated("arg_attr", protowalk.Bytes),
		8: protowalk.Repeated("resource_arg_unique_id", protowalk.Bytes),
	})
	opDefSpec = protowalk.NewMessage("OpDef", protowalk.Fields{
		1: protowalk.Singular("name", protowalk.Bytes),
		2: protowalk.Repeated("input_arg", protowalk.Bytes),
		3: protowalk.Repeated("output_arg", protowalk.Bytes),
		4: protowalk.Repeated("attr", protowalk.Bytes),
	})
	assetFileSpec = protowalk.NewMessage("AssetFileDef", protowalk.Fields{
		1: protowalk.Singular("tensor_info", protowalk.Bytes),
		2: protowalk.Singular("filename", protowalk.Bytes),
	})
	objectGraphSpec = protowalk.NewMessage("SavedObjectGraph", protowalk.Fields{
		1: protowalk.Repeated("nodes", protowalk.Bytes),
		2: protowalk.Repeated("concrete_functions", protowalk.Bytes),
	})
	savedObjectSpec = protowalk.NewMessage("SavedObject", protowalk.Fields{
		1:  protowalk.Repeated("children", protowalk.Bytes),
		3:  protowalk.Repeated("slot_variables", protowalk.Bytes),
		4:  protowalk.Singular("user_object", protowalk.Bytes),
		5:  protowalk.Singular("asset", protowalk.Bytes),
		6:  protowalk.Singular("function", protowalk.Bytes),
		7:  protowalk.Singular("variable", protowalk.Bytes),
		8:  protowalk.Singular("bare_concrete_function", protowalk.Bytes),
		9:  protowalk.Singular("constant", protowalk.Bytes),
		10: protowalk.Singular("resource", protowalk.Bytes),
		11: protowalk.Repeated("saveable_objects", protowalk.Bytes),
		12: protowalk.Singular("captured_tensor", protowalk.Bytes),
		13: protowalk.Singular("registered_name", protowalk.Bytes),
		14: protowalk.Singular("serialized_user_proto", protowalk.Bytes),
		15: protowalk.Repeated("dependencies", protowalk.Bytes),
		16: protowalk.Singular("registered_saver", protowalk.Bytes),
	})
	userObjectSpec = protowalk.NewMessage("SavedUserObject", protowalk.Fields{
		1: protowalk.Singular("identifier", protowalk.Bytes),
		2: protowalk.Singular("version", protowalk.Bytes),
		3: protowalk.Singular("metadata", protowalk.Bytes),
	})
	kerasMetadataSpec = protowalk.NewMessage("SavedMetadata", protowalk.Fields{
		1: protowalk.Repeated("nodes", protowalk.Bytes),
	})
	kerasObjectSpec = protowalk.NewMessage("SavedMetadata.SavedObject", protowalk.Fields{
		1: protowalk.Singular("version", protowalk.Bytes),
		2: protowalk.Singular("node_id", protowalk.Varint),
		3: protowalk.Singular("node_path", protowalk.Bytes),
		4: protowalk.Singular("identifier", protowalk.Bytes),
		5: protowalk.Singular("metadata", protowalk.Bytes),
	})
)
