module example.com/guide

go 1.26

require github.com/replica-io/replica v0.0.0

require (
	github.com/anishathalye/porcupine v1.3.1 // indirect
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	go.etcd.io/raft/v3 v3.6.0 // indirect
	google.golang.org/protobuf v1.33.0 // indirect
	pgregory.net/rapid v1.3.0 // indirect
)

replace github.com/replica-io/replica => ../..
