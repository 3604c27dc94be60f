// Package artifact packs a model or dataset directory as an OCI artifact
// following the CNCF ModelPack model-spec, pushes it to an oras-go target,
// and pulls artifacts back into a directory.
//
// # Format
//
// A model is an OCI image manifest (image-spec v1.1) whose artifactType is
// [ArtifactTypeModel], whose config is a ModelPack [Model] JSON document
// ([MediaTypeModelConfig]) and whose layers are the directory's regular
// files, one layer per file, stored raw (no tar, no compression) with the
// ModelPack layer media type of the file's [LayerKind] and the file's
// slash-separated path in the [AnnotationFilepath] annotation. A dataset
// uses Palisade's own [ArtifactTypeDataset] and [MediaTypeDatasetConfig]
// (see [DatasetConfig]); its data files are ModelPack dataset layers, and
// it may list external [Reference]s (data that stays in a lake) instead of
// or beside layers.
//
// Packing is reproducible: the same directory gives the same manifest
// digest wherever it lies and whatever its timestamps, unless the options
// ask for a creation time.
//
// # Invariants
//
//   - Files are streamed, never loaded whole: packing, pushing and pulling
//     use memory proportional to the number of files, not their size.
//   - Pack reads regular files only, skips .git, and refuses symbolic
//     links that leave the directory and special files, so an artifact
//     never carries content from outside the directory.
//   - Pull writes into a fresh temporary directory and moves it into place
//     only after every layer's size and digest have been verified; on any
//     failure the temporary directory is removed and the destination is
//     left as it was.
//
// # Threat assumptions
//
// Manifests, configs, annotations and layer bytes pulled from a target are
// untrusted: a registry or a peer may serve anything. [ParseManifest]
// bounds their size and count, and every path taken from an annotation or
// a tar entry is checked by [ValidatePath] and against the other paths
// (duplicates, case collisions, a file where a directory is needed) before
// anything is written. Tar layers from other producers may hold regular
// files and directories only; links and devices are refused. Writes go
// through an [os.Root] opened on the temporary directory, so a path that
// slipped past validation still could not escape it. Unicode
// normalisation collisions (NFC against NFD, as on macOS) are not
// detected.
package artifact
