module github.com/replica-io/replica

go 1.26
