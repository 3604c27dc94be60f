module example.com/ml/inference-gateway

go 1.21

require (
	github.com/gin-gonic/gin v1.9.0
	golang.org/x/net v0.7.0 // indirect
	google.golang.org/protobuf v1.28.1
)
