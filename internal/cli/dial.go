package cli

import (
	"github.com/keycustodian/custodian/client"
)

// defaultAddr is the dev server's address, used when neither
// CUSTODIAN_ADDR nor --addr names one.
const defaultAddr = "http://127.0.0.1:8200"

// dialClient is Env.Dial's default: the client package over the network.
func dialClient(o ClientOptions) (Remote, error) {
	addr := o.Addr
	if addr == "" {
		addr = defaultAddr
	}
	return client.New(addr, client.Options{
		Token:          o.Token,
		CACertFile:     o.CACertFile,
		ClientCertFile: o.ClientCertFile,
		ClientKeyFile:  o.ClientKeyFile,
	})
}
