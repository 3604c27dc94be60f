package savedmodel

import "strings"

// fileOps are ops that read, write, list or map files (or write debug and
// summary data to a file URL) when the graph runs. The value is the index
// of the input that carries the path, or -1 when the path is an attribute
// or a reader's later input.
var fileOps = map[string]int{
	"ReadFile": 0, "WriteFile": 0, "MatchingFiles": 0, "DeleteFile": 0,
	"ImmutableConst":  -1,
	"WholeFileReader": -1, "WholeFileReaderV2": -1,
	"TextLineReader": -1, "TextLineReaderV2": -1,
	"FixedLengthRecordReader": -1, "FixedLengthRecordReaderV2": -1,
	"TFRecordReader": -1, "TFRecordReaderV2": -1,
	"IdentityReader": -1, "IdentityReaderV2": -1,
	"LMDBReader":         -1,
	"LoadAndRemapMatrix": 0, "GenerateVocabRemapping": 0,
	"DebugIdentity": -1, "DebugIdentityV2": -1, "DebugIdentityV3": -1,
	"DebugNanCount": -1, "DebugNumericSummary": -1, "DebugNumericSummaryV2": -1,
	"TFRecordDataset": 0, "TFRecordDatasetV2": 0, "TextLineDataset": 0,
	"FixedLengthRecordDataset": 0, "FixedLengthRecordDatasetV2": 0,
	"CSVDataset": 0, "CSVDatasetV2": 0, "ExperimentalCSVDataset": 0,
	"LMDBDataset": 0, "ExperimentalLMDBDataset": 0,
	"SqlDataset": 1, "ExperimentalSqlDataset": 1,
	"MatchingFilesDataset": 0, "ExperimentalMatchingFilesDataset": 0,
	"LoadDataset": 0, "SaveDataset": 1, "SaveDatasetV2": 1,
	"SnapshotDataset": 1, "SnapshotDatasetV2": 1, "SnapshotDatasetReader": 0, "SnapshotNestedDatasetReader": -1,
	"DatasetToTFRecord": 1, "ExperimentalDatasetToTFRecord": 1,
	"CreateSummaryFileWriter": 1, "CreateSummaryDbWriter": 1,
}

// pyOps call back into a Python function registered in the loading
// process.
var pyOps = map[string]bool{"PyFunc": true, "PyFuncStateless": true, "EagerPyFunc": true}

// pathOps take a file path as a data input that every real SavedModel
// feeds from a placeholder or an asset (the saver, vocabulary tables, a
// dataset cache). They are not reported unless the path is a constant that
// leaves the model directory. The value lists the path inputs.
var pathOps = map[string][]int{
	"Save": {0}, "SaveV2": {0}, "SaveSlices": {0},
	"Restore": {0}, "RestoreV2": {0}, "RestoreSlice": {0},
	"MergeV2Checkpoints":          {0, 1},
	"InitializeTableFromTextFile": {1}, "InitializeTableFromTextFileV2": {1},
	"CacheDataset": {1}, "CacheDatasetV2": {1},
}

// knownOps lists the standard TensorFlow ops that SavedModels commonly
// contain: array, math, neural network, image, string, random, control
// flow, variable and resource, table, dataset basics, saver and internal
// ops. An op outside this list (and outside the model's function library)
// is reported for review: it may need a custom kernel library.
var knownOps = func() map[string]bool {
	m := map[string]bool{}
	for _, op := range strings.Fields(knownOpNames) {
		m[op] = true
	}
	for op := range pathOps {
		m[op] = true
	}
	return m
}()

const knownOpNames = `
Const Placeholder PlaceholderV2 PlaceholderWithDefault Identity IdentityN Snapshot StopGradient
PreventGradient Reshape Shape ShapeN Size Rank ExpandDims Squeeze Transpose ConjugateTranspose
Concat ConcatV2 ConcatOffset Split SplitV Slice StridedSlice StridedSliceGrad StridedSliceAssign
ResourceStridedSliceAssign TensorStridedSliceUpdate Pack Unpack Fill ZerosLike OnesLike Tile
TileGrad Pad PadV2 MirrorPad MirrorPadGrad Gather GatherV2 GatherNd ScatterNd
ScatterNdNonAliasingAdd TensorScatterUpdate TensorScatterAdd TensorScatterSub TensorScatterMax
TensorScatterMin Where Reverse ReverseV2 ReverseSequence BroadcastTo BroadcastArgs
BroadcastGradientArgs OneHot Range LinSpace Unique UniqueV2 UniqueWithCounts UniqueWithCountsV2
Bitcast Cast CheckNumerics CheckNumericsV2 EnsureShape MatrixBandPart MatrixDiag MatrixDiagV2
MatrixDiagV3 MatrixDiagPart MatrixDiagPartV2 MatrixDiagPartV3 MatrixSetDiag MatrixSetDiagV2
MatrixSetDiagV3 Diag DiagPart SpaceToBatch SpaceToBatchND BatchToSpace BatchToSpaceND
SpaceToDepth DepthToSpace InvertPermutation ListDiff Empty Fingerprint QuantizeAndDequantize
QuantizeAndDequantizeV2 QuantizeAndDequantizeV3 QuantizeAndDequantizeV4 FakeQuantWithMinMaxArgs
FakeQuantWithMinMaxVars FakeQuantWithMinMaxVarsPerChannel QuantizeV2 Dequantize UnravelIndex
Roll LowerBound UpperBound Bucketize EditDistance DeepCopy InplaceAdd InplaceSub InplaceUpdate
GuaranteeConst Unstage Stage ParallelConcat ClipByValue Einsum UnsortedSegmentJoin

Add AddV2 AddN Sub Mul MulNoNan Div DivNoNan RealDiv FloorDiv FloorMod TruncateDiv TruncateMod Mod
Neg Abs Sign Square Sqrt Rsqrt Exp Expm1 Log Log1p Pow Maximum Minimum SquaredDifference
Reciprocal Inv Floor Ceil Round Rint Sin Cos Tan Asin Acos Atan Atan2 Sinh Cosh Tanh Asinh Acosh
Atanh Sigmoid Erf Erfc Erfinv Ndtri Lgamma Digamma Igamma Igammac Betainc Zeta Polygamma IsNan
IsInf IsFinite Equal NotEqual Less LessEqual Greater GreaterEqual ApproximateEqual LogicalAnd
LogicalOr LogicalNot Select SelectV2 MatMul BatchMatMul BatchMatMulV2 BatchMatMulV3 SparseMatMul
Sum Prod Max Min Mean All Any EuclideanNorm ArgMax ArgMin Cumsum Cumprod CumulativeLogsumexp
SegmentSum SegmentMean SegmentMax SegmentMin SegmentProd UnsortedSegmentSum UnsortedSegmentMax
UnsortedSegmentMin UnsortedSegmentProd SparseSegmentSum SparseSegmentMean SparseSegmentSqrtN
SparseSegmentSumWithNumSegments SparseSegmentMeanWithNumSegments
SparseSegmentSqrtNWithNumSegments Cross Conj Real Imag Complex ComplexAbs Angle Cholesky
MatrixInverse MatrixDeterminant LogMatrixDeterminant MatrixSolve MatrixTriangularSolve
MatrixSolveLs MatrixExponential MatrixLogarithm MatrixSquareRoot Qr Svd SelfAdjointEigV2 Lu
Xdivy Xlogy Xlog1py BiasAdd BiasAddV1 BiasAddGrad Bincount DenseBincount SparseBincount
RaggedBincount HistogramFixedWidth BitwiseAnd BitwiseOr BitwiseXor Invert LeftShift RightShift
PopulationCount FFT IFFT FFT2D IFFT2D FFT3D IFFT3D RFFT IRFFT RFFT2D IRFFT2D RFFT3D IRFFT3D
SqrtGrad RsqrtGrad ReciprocalGrad SigmoidGrad TanhGrad InvGrad TridiagonalSolve
TridiagonalMatMul BandedTriangularSolve Requantize QuantizedMatMul QuantizedConv2D
QuantizedAdd QuantizedMul QuantizedRelu QuantizedRelu6 QuantizedReshape QuantizedConcat
QuantizedBiasAdd QuantizedAvgPool QuantizedMaxPool RequantizationRange

Relu Relu6 Elu Selu LeakyRelu Softplus Softsign Softmax LogSoftmax Conv Conv2D
Conv2DBackpropInput Conv2DBackpropFilter Conv2DBackpropInputV2 Conv2DBackpropFilterV2 Conv3D
Conv3DBackpropInput Conv3DBackpropFilter Conv3DBackpropInputV2 Conv3DBackpropFilterV2
DepthwiseConv2dNative DepthwiseConv2dNativeBackpropInput DepthwiseConv2dNativeBackpropFilter
MaxPool MaxPoolV2 MaxPool3D AvgPool AvgPool3D MaxPoolGrad MaxPoolGradV2 MaxPool3DGrad
AvgPoolGrad AvgPool3DGrad MaxPoolWithArgmax MaxPoolGradWithArgmax MaxPoolGradGrad
FusedBatchNorm FusedBatchNormV2 FusedBatchNormV3 FusedBatchNormGrad FusedBatchNormGradV2
FusedBatchNormGradV3 BatchNormWithGlobalNormalization LRN LRNGrad L2Loss
SoftmaxCrossEntropyWithLogits SparseSoftmaxCrossEntropyWithLogits TopK TopKV2 InTopK InTopKV2
Dilation2D ReluGrad Relu6Grad EluGrad SeluGrad SoftplusGrad SoftsignGrad LeakyReluGrad
NthElement CTCLoss CTCLossV2 CTCGreedyDecoder CTCBeamSearchDecoder DataFormatDimMap
DataFormatVecPermute FractionalMaxPool FractionalAvgPool FusedPadConv2D FusedResizeAndPadConv2D
ApproxTopK

ResizeBilinear ResizeNearestNeighbor ResizeBicubic ResizeArea ResizeBilinearGrad
ResizeNearestNeighborGrad ResizeBicubicGrad ScaleAndTranslate ScaleAndTranslateGrad
CropAndResize CropAndResizeGradImage CropAndResizeGradBoxes DecodeJpeg DecodeAndCropJpeg
DecodePng DecodeGif DecodeBmp DecodeImage EncodeJpeg EncodeJpegVariableQuality EncodePng
ExtractJpegShape AdjustContrast AdjustContrastv2 AdjustHue AdjustSaturation RGBToHSV HSVToRGB
NonMaxSuppression NonMaxSuppressionV2 NonMaxSuppressionV3 NonMaxSuppressionV4
NonMaxSuppressionV5 NonMaxSuppressionWithOverlaps CombinedNonMaxSuppression DrawBoundingBoxes
DrawBoundingBoxesV2 SampleDistortedBoundingBox SampleDistortedBoundingBoxV2
StatelessSampleDistortedBoundingBox ExtractImagePatches ExtractGlimpse ExtractGlimpseV2
ImageProjectiveTransformV2 ImageProjectiveTransformV3 RandomCrop ExtractVolumePatches DecodeRaw
DecodePaddedRaw DecodeCSV DecodeBase64 EncodeBase64 DecodeCompressed DecodeJSONExample
ParseTensor SerializeTensor SerializeManySparse SerializeSparse DeserializeSparse
DeserializeManySparse ParseExample ParseExampleV2 ParseSingleExample ParseSequenceExample
ParseSequenceExampleV2 ParseSingleSequenceExample DecodeWav EncodeWav AudioSpectrogram Mfcc
DecodeProtoV2 EncodeProto

NoOp Switch Merge Enter Exit NextIteration LoopCond RefSwitch RefMerge RefEnter RefExit
RefNextIteration RefIdentity RefSelect ControlTrigger If StatelessIf While StatelessWhile For
Case StatelessCase PartitionedCall StatefulPartitionedCall SymbolicGradient Assert Print PrintV2
Timestamp _Arg _Retval _DeviceArg _DeviceRetval _Send _Recv _HostSend _HostRecv _If _While
_FusedMatMul _FusedConv2D _FusedBatchNormEx _FusedDepthwiseConv2dNative _ReadVariablesOp
_ListToArray _ArrayToList _UnaryOpsComposition OptionalFromValue OptionalGetValue
OptionalHasValue OptionalNone TensorListReserve TensorListFromTensor TensorListStack
TensorListGetItem TensorListSetItem TensorListPushBack TensorListPopBack TensorListLength
TensorListElementShape TensorListConcat TensorListConcatV2 TensorListSplit TensorListGather
TensorListScatter TensorListScatterV2 TensorListScatterIntoExistingList TensorListResize
TensorListPushBackBatch TensorListConcatLists EmptyTensorList
TensorArray TensorArrayV2 TensorArrayV3 TensorArrayReadV3 TensorArrayWriteV3
TensorArrayGatherV3 TensorArrayScatterV3 TensorArraySizeV3 TensorArrayConcatV3
TensorArraySplitV3 TensorArrayCloseV3 TensorArrayGradV3 TensorArrayGradWithShape
TensorArrayReadV2 TensorArrayWriteV2 TensorArrayGatherV2 TensorArrayScatterV2 TensorArraySizeV2
TensorArrayConcatV2 TensorArraySplitV2 TensorArrayCloseV2 TensorArrayGradV2
FIFOQueue FIFOQueueV2 PaddingFIFOQueue PaddingFIFOQueueV2 RandomShuffleQueue
RandomShuffleQueueV2 PriorityQueue PriorityQueueV2 QueueEnqueue QueueEnqueueV2
QueueEnqueueMany QueueEnqueueManyV2 QueueDequeue QueueDequeueV2 QueueDequeueMany
QueueDequeueManyV2 QueueDequeueUpTo QueueDequeueUpToV2 QueueClose QueueCloseV2 QueueSize
QueueSizeV2 QueueIsClosed QueueIsClosedV2 ReaderRead ReaderReadV2 ReaderReadUpTo
ReaderReadUpToV2 ReaderNumRecordsProduced ReaderNumRecordsProducedV2 ReaderReset ReaderResetV2
ReaderNumWorkUnitsCompleted ReaderNumWorkUnitsCompletedV2 ReaderSerializeState
ReaderSerializeStateV2 ReaderRestoreState ReaderRestoreStateV2 Barrier BarrierClose
BarrierIncompleteSize BarrierInsertMany BarrierReadySize BarrierTakeMany

Variable VariableV2 VarHandleOp VarIsInitializedOp ReadVariableOp AssignVariableOp
AssignAddVariableOp AssignSubVariableOp DestroyResourceOp ResourceGather ResourceGatherNd
ResourceScatterAdd ResourceScatterSub ResourceScatterMul ResourceScatterDiv ResourceScatterMin
ResourceScatterMax ResourceScatterUpdate ResourceScatterNdUpdate ResourceScatterNdAdd
ResourceScatterNdSub ResourceScatterNdMax ResourceScatterNdMin Assign AssignAdd AssignSub
ScatterAdd ScatterSub ScatterMul ScatterDiv ScatterMin ScatterMax ScatterUpdate ScatterNdUpdate
ScatterNdAdd ScatterNdSub TemporaryVariable DestroyTemporaryVariable IsVariableInitialized
DisableCopyOnRead VariableShape ResourceCountUpTo CountUpTo
ResourceApplyGradientDescent ResourceApplyAdam ResourceApplyAdamWithAmsgrad
ResourceApplyMomentum ResourceApplyKerasMomentum ResourceApplyAdagrad ResourceApplyAdagradV2
ResourceApplyAdagradDA ResourceApplyRMSProp ResourceApplyCenteredRMSProp ResourceApplyFtrl
ResourceApplyFtrlV2 ResourceApplyAdadelta ResourceApplyAdaMax ResourceApplyAddSign
ResourceApplyPowerSign ResourceApplyProximalAdagrad ResourceApplyProximalGradientDescent
ResourceSparseApplyAdagrad ResourceSparseApplyAdagradV2 ResourceSparseApplyMomentum
ResourceSparseApplyKerasMomentum ResourceSparseApplyFtrl ResourceSparseApplyFtrlV2
ResourceSparseApplyRMSProp ResourceSparseApplyCenteredRMSProp ResourceSparseApplyAdadelta
ApplyGradientDescent ApplyAdam ApplyMomentum ApplyAdagrad ApplyAdagradV2 ApplyRMSProp
ApplyCenteredRMSProp ApplyFtrl ApplyFtrlV2 ApplyAdadelta ApplyAdaMax SparseApplyAdagrad
SparseApplyMomentum SparseApplyFtrl SparseApplyFtrlV2 SparseApplyRMSProp

HashTable HashTableV2 MutableHashTable MutableHashTableV2 MutableHashTableOfTensors
MutableHashTableOfTensorsV2 MutableDenseHashTable MutableDenseHashTableV2 AnonymousHashTable
AnonymousMutableHashTable AnonymousMutableHashTableOfTensors AnonymousMutableDenseHashTable
LookupTableFind LookupTableFindV2 LookupTableInsert LookupTableInsertV2 LookupTableRemoveV2
LookupTableSize LookupTableSizeV2 LookupTableExport LookupTableExportV2 LookupTableImport
LookupTableImportV2 InitializeTable InitializeTableV2 InitializeTableFromDataset

StringJoin StringSplit StringSplitV2 StringStrip StringLength StringLower StringUpper
StringToNumber StringToHashBucket StringToHashBucketFast StringToHashBucketStrong StringFormat
StringNGrams AsString RegexReplace StaticRegexReplace RegexFullMatch StaticRegexFullMatch Substr
ReduceJoin UnicodeDecode UnicodeDecodeWithOffsets UnicodeEncode UnicodeScript UnicodeTranscode
ShardedFilename ShardedFilespec

RandomUniform RandomUniformInt RandomStandardNormal TruncatedNormal ParameterizedTruncatedNormal
RandomShuffle RandomGamma RandomGammaGrad RandomPoisson RandomPoissonV2 Multinomial
StatelessRandomUniform StatelessRandomUniformV2 StatelessRandomUniformInt
StatelessRandomUniformIntV2 StatelessRandomUniformFullInt StatelessRandomUniformFullIntV2
StatelessRandomNormal StatelessRandomNormalV2 StatelessTruncatedNormal StatelessTruncatedNormalV2
StatelessMultinomial StatelessRandomGetKeyCounter StatelessRandomGetKeyCounterAlg
StatelessRandomGetAlg StatelessRandomBinomial StatelessRandomGammaV2 StatelessRandomGammaV3
StatelessRandomPoisson StatelessParameterizedTruncatedNormal StatelessShuffle RngReadAndSkip
RngSkip StatefulUniform StatefulUniformInt StatefulUniformFullInt StatefulStandardNormal
StatefulStandardNormalV2 StatefulTruncatedNormal StatefulRandomBinomial
NonDeterministicInts AnonymousSeedGenerator DeleteSeedGenerator AnonymousRandomSeedGenerator
DeleteRandomSeedGenerator DummySeedGenerator

SparseTensorDenseMatMul SparseToDense SparseReshape SparseReorder SparseAdd SparseConcat
SparseSlice SparseSplit SparseReduceSum SparseReduceSumSparse SparseReduceMax
SparseReduceMaxSparse SparseSoftmax SparseFillEmptyRows SparseFillEmptyRowsGrad
SparseDenseCwiseAdd SparseDenseCwiseMul SparseDenseCwiseDiv SparseTensorDenseAdd
SparseTensorSliceDataset SparseCross SparseCrossV2 SparseCrossHashed AddSparseToTensorsMap
AddManySparseToTensorsMap TakeManySparseFromTensorsMap SparseSparseMaximum SparseSparseMinimum
RaggedTensorToTensor RaggedTensorToSparse RaggedTensorFromVariant RaggedTensorToVariant
RaggedRange RaggedGather RaggedCross RaggedTensorToVariantGradient

TensorDataset TensorSliceDataset RangeDataset MapDataset ParallelMapDataset
ParallelMapDatasetV2 BatchDataset BatchDatasetV2 PaddedBatchDataset PaddedBatchDatasetV2
ParallelBatchDataset ShuffleDataset ShuffleDatasetV2 ShuffleDatasetV3 ShuffleAndRepeatDataset
ShuffleAndRepeatDatasetV2 RepeatDataset PrefetchDataset TakeDataset SkipDataset FilterDataset
FlatMapDataset InterleaveDataset ParallelInterleaveDataset ParallelInterleaveDatasetV2
ParallelInterleaveDatasetV3 ParallelInterleaveDatasetV4 ZipDataset ConcatenateDataset
ModelDataset OptimizeDataset OptimizeDatasetV2 MapAndBatchDataset WindowDataset UnbatchDataset
GeneratorDataset OptionsDataset AssertCardinalityDataset AssertNextDataset DummyIterationCounter
FinalizeDataset RebatchDataset RebatchDatasetV2 ScanDataset TakeWhileDataset
IgnoreErrorsDataset MaxIntraOpParallelismDataset PrivateThreadPoolDataset
AnonymousIterator AnonymousIteratorV2 AnonymousIteratorV3 Iterator IteratorV2
IteratorGetNext IteratorGetNextSync IteratorGetNextAsOptional MakeIterator
IteratorToStringHandle IteratorFromStringHandle IteratorFromStringHandleV2 DeleteIterator
OneShotIterator DatasetToSingleElement ReduceDataset DatasetCardinality DatasetToGraph
DatasetToGraphV2 WrapDatasetVariant UnwrapDatasetVariant DeleteMemoryCache
AnonymousMemoryCache DeleteMultiDeviceIterator AnonymousMultiDeviceIterator
AnonymousMultiDeviceIteratorV3 MultiDeviceIterator MultiDeviceIteratorInit
MultiDeviceIteratorGetNextFromShard MultiDeviceIteratorToStringHandle
MultiDeviceIteratorFromStringHandle DatasetFromGraph

BatchFunction Batch Unbatch UnbatchGrad XlaCallModule XlaSharding XlaConvV2 XlaDotV2 XlaGather
XlaScatter XlaReduceWindow XlaPad XlaDynamicSlice XlaDynamicUpdateSlice XlaSelectAndScatter
XlaReduce XlaVariadicReduceV2 XlaSort XlaVariadicSort XlaRngBitGenerator
XlaOptimizationBarrier XlaBroadcastHelper XlaSelfAdjointEig XlaSvd XlaKeyValueSort
XlaReducePrecision XlaSpmdFullToShardShape XlaSpmdShardToFullShape
TPUPartitionedCall TPUReplicateMetadata TPUCompilationResult TPUReplicatedInput
TPUReplicatedOutput TPUOrdinalSelector
`
