module github.com/keycustodian/custodian

go 1.26.0

require (
	filippo.io/bigmod v0.1.0
	github.com/hashicorp/golang-lru/v2 v2.0.7
	go.etcd.io/bbolt v1.5.0
	golang.org/x/crypto v0.58.0
)

require golang.org/x/sys v0.49.0 // indirect
