package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/client"
	"github.com/keycustodian/custodian/seal/keyfile"
	"github.com/keycustodian/custodian/server"
	"github.com/keycustodian/custodian/store/memory"
)

// A program written against custodian.KeyManager runs in-process or
// against a server; errors.Is works the same either way. Here the server
// runs in the same process, for the example's sake.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "client-example")
	defer os.RemoveAll(dir)
	kf, _ := keyfile.Create(filepath.Join(dir, "unseal.key"))
	kms, _ := custodian.Open(ctx, custodian.Options{Store: memory.New(), Seal: kf})
	defer kms.Close()
	res, _ := kms.Init(ctx, custodian.InitOptions{})
	srv, _ := server.New(kms, server.Options{Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, err := client.New(hs.URL, client.Options{Token: string(custodian.Reveal(res.RootToken))})
	if err != nil {
		log.Fatal(err)
	}
	var km custodian.KeyManager = c // or kms: the one line that changes

	if _, err := km.CreateKey(ctx, "payments", nil); err != nil {
		log.Fatal(err)
	}
	ct, _ := km.Encrypt(ctx, "payments", []byte("4111 1111 1111 1111"), nil)
	pt, _ := kms.Decrypt(ctx, ct, nil) // the server's Custodian reads it
	fmt.Printf("%s\n", pt)

	km.RevokeKey(ctx, "payments")
	_, err = km.Encrypt(ctx, "payments", []byte("more"), nil)
	fmt.Println(errors.Is(err, custodian.ErrKeyRevoked))
	// Output:
	// 4111 1111 1111 1111
	// true
}

// The CLI's configuration: CUSTODIAN_ADDR, CUSTODIAN_TOKEN and, for a
// server with a private CA, CUSTODIAN_CACERT.
func ExampleFromEnv() {
	c, err := client.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	st, err := c.SealStatus(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sealed:", st.Sealed)
}
