module github.com/replica-io/replica

go 1.26

require github.com/anishathalye/porcupine v1.3.1

require github.com/google/go-cmp v0.7.0

require (
	github.com/chromedp/chromedp v0.14.2
	pgregory.net/rapid v1.3.0
)

require go.etcd.io/raft/v3 v3.6.0

require (
	github.com/chromedp/cdproto v0.0.0-20250724212937-08a3db8b4327 // indirect
	github.com/chromedp/sysutil v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20250725192818-e39067aee2d2 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/gobwas/ws v1.4.0 // indirect
	github.com/gogo/protobuf v1.3.2 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	golang.org/x/sys v0.34.0 // indirect
	google.golang.org/protobuf v1.33.0 // indirect
)
