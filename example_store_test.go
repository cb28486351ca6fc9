package custodian_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/keycustodian/custodian"
	"github.com/keycustodian/custodian/seal/shamir"
	"github.com/keycustodian/custodian/store/memory"
)

// The embedded default: one directory holding a bbolt file and the key
// file that unseals it. Keys survive restarts.
func ExampleOpenDir() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "custodian-example")
	defer os.RemoveAll(dir)

	kms, err := custodian.OpenDir(ctx, dir, custodian.Options{})
	if err != nil {
		log.Fatal(err)
	}
	kms.CreateKey(ctx, "payments", nil)
	ct, _ := kms.Encrypt(ctx, "payments", []byte("kept across restarts"), nil)
	kms.Close()

	kms, err = custodian.OpenDir(ctx, dir, custodian.Options{}) // a restart
	if err != nil {
		log.Fatal(err)
	}
	defer kms.Close()
	pt, _ := kms.Decrypt(ctx, ct, nil)
	fmt.Printf("%s\n", pt)
	// Output: kept across restarts
}

// The init ceremony and unsealing with a Shamir seal: the root key exists
// only as shares, and any three of five unseal.
func ExampleCustodian_Unseal() {
	ctx := context.Background()
	kms, err := custodian.Open(ctx, custodian.Options{Store: memory.New(), Seal: shamir.Seal{}})
	if err != nil {
		log.Fatal(err)
	}
	defer kms.Close()
	res, err := kms.Init(ctx, custodian.InitOptions{Shares: 5, Threshold: 3})
	if err != nil {
		log.Fatal(err)
	}
	_, err = kms.CreateKey(ctx, "payments", nil)
	fmt.Println("sealed:", errors.Is(err, custodian.ErrSealed))

	for _, i := range []int{4, 0, 2} { // any three share holders, in any order
		st, err := kms.Unseal(ctx, custodian.Reveal(res.Shares[i]))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("progress %d of %d, sealed %v\n", st.Progress, st.Threshold, st.Sealed)
	}
	_, err = kms.CreateKey(ctx, "payments", nil)
	fmt.Println("create:", err)
	// Output:
	// sealed: true
	// progress 1 of 3, sealed true
	// progress 2 of 3, sealed true
	// progress 0 of 3, sealed false
	// create: <nil>
}
