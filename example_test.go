package custodian_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/keycustodian/custodian"
)

// Example walks the original KeyCustodian's usage guide step by step, with
// the Go name of every call.
func Example() {
	ctx := context.Background()

	// 1. Initialise the key management system: kms_instance = KeyCustodian()
	kms, err := custodian.New(custodian.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer kms.Close()

	// 2. An AES key: establish_aes_key, encrypt_data_aes, decrypt_data_aes.
	aesKeyID := "terminal_123"
	if _, err := kms.EstablishAESKey(ctx, aesKeyID); err != nil {
		log.Fatal(err)
	}
	aesEncryptedText, err := kms.EncryptDataAES(ctx, aesKeyID, "Confidential Communication")
	if err != nil {
		log.Fatal(err)
	}
	aesDecryptedText, err := kms.DecryptDataAES(ctx, aesKeyID, aesEncryptedText)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Decrypted AES Text:", aesDecryptedText)

	// 3. An RSA pair: generate_rsa_pair, encrypt_data_rsa, decrypt_data_rsa.
	rsaUser := "systemRSA"
	if _, err := kms.GenerateRSAPair(ctx, rsaUser); err != nil {
		log.Fatal(err)
	}
	rsaEncryptedData, err := kms.EncryptDataRSA(ctx, rsaUser, "Classified Information")
	if err != nil {
		log.Fatal(err)
	}
	rsaDecryptedData, err := kms.DecryptDataRSA(ctx, rsaUser, rsaEncryptedData)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Decrypted RSA Text:", rsaDecryptedData)

	// 4. Diffie-Hellman parameters and a key pair:
	// generate_diffie_hellman_params_and_key.
	pair, err := kms.GenerateDiffieHellmanParamsAndKey(ctx, "dh_exchange")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Diffie-Hellman Public Key: %.26s...\n", pair.PublicKey)

	// 5. Revocation: invalidate_key, then decryption fails.
	revocationResult, err := kms.InvalidateKey(ctx, aesKeyID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Revocation Result:", revocationResult)
	_, err = kms.DecryptDataAES(ctx, aesKeyID, aesEncryptedText)
	fmt.Println("Expected error after key revocation:", err)
	fmt.Println("errors.Is(err, custodian.ErrKeyRevoked):", errors.Is(err, custodian.ErrKeyRevoked))

	// Output:
	// Decrypted AES Text: Confidential Communication
	// Decrypted RSA Text: Classified Information
	// Diffie-Hellman Public Key: -----BEGIN PUBLIC KEY-----...
	// Revocation Result: Key Revocation Successful
	// Expected error after key revocation: decrypt "terminal_123": key is revoked
	// errors.Is(err, custodian.ErrKeyRevoked): true
}
